-- $1: the batch's e-mails, lower-cased and sorted, so that concurrent calls take
-- the unique-index locks of new users in the same order.
-- Returns the ids of the users this call created.
INSERT INTO user_metrics.users (email)
SELECT input.email
FROM unnest($1::text[]) WITH ORDINALITY AS input (email, position)
ORDER BY input.position
ON CONFLICT ((lower(email))) DO NOTHING
RETURNING id
