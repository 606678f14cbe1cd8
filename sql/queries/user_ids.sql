-- $1: e-mails. Returns each with the id of its user. A separate statement from
-- insert_users so that it sees users that concurrent calls committed meanwhile.
SELECT input.email, u.id
FROM unnest($1::text[]) AS input (email)
JOIN user_metrics.users AS u ON lower(u.email) = lower(input.email)
