-- $1: e-mails, lower-cased. Returns the users that exist, with their current name.
SELECT u.email, u.id, u.name
FROM user_metrics.users AS u
WHERE u.email = ANY ($1::text[])
