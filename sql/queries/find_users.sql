-- $1: user keys. Returns the users that exist, with their e-mail (which the
-- caller compares with the batch's, to tell a key collision) and current name.
SELECT u.user_key, u.email, u.name
FROM user_metrics.users AS u
WHERE u.user_key = ANY ($1::bigint[])
