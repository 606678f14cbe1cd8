-- $1: user ids, $2: the latest non-empty name this call stored for each, only where
-- it differs from the name find_users saw.
-- Only rows whose name changes are touched; they are locked in id order first, so
-- two calls renaming the same users cannot deadlock. NO KEY UPDATE, like the UPDATE
-- itself, does not conflict with the key-share locks that concurrent inserts of
-- sessions take on their user through the foreign key.
WITH changed AS (
    SELECT u.id, input.name
    FROM unnest($1::bigint[], $2::text[]) AS input (id, name)
    JOIN user_metrics.users AS u ON u.id = input.id
    WHERE u.name IS DISTINCT FROM input.name
    ORDER BY u.id
    FOR NO KEY UPDATE OF u
)
UPDATE user_metrics.users AS u SET name = changed.name
FROM changed
WHERE u.id = changed.id
