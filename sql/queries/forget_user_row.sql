-- forget_user. $1: the user key; $2: the e-mail in canonical form. Deletes the
-- user (after their sessions); returns how many rows (0 or 1).
WITH gone AS (
    DELETE FROM user_metrics.users AS u
    WHERE u.user_key = $1::bigint AND u.email = $2::text
    RETURNING 1
)
SELECT count(*) FROM gone
