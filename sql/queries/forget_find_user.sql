-- forget_user. $1: the user key. The e-mail of the user holding that key, if
-- any: it must be the address being erased, not one that collides with it.
SELECT u.email
FROM user_metrics.users AS u
WHERE u.user_key = $1::bigint
