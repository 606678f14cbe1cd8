-- $1: e-mails not found by find_users, lower-cased and sorted, so that concurrent
-- calls take the unique-index locks of new users in the same order (unnest yields
-- the elements in array order, and rows are inserted in that order).
-- Returns the users this call created; one that a concurrent call created first is
-- skipped here and found again by find_users.
INSERT INTO user_metrics.users (email)
SELECT input.email
FROM unnest($1::text[]) AS input (email)
ON CONFLICT (email) DO NOTHING
RETURNING email, id
