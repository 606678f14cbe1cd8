-- $1: user keys, sorted; $2: the latest non-empty name this call stored for each,
-- only where it differs from the name find_users saw. Only rows whose name
-- changes are written. The keys are sorted and each is an index lookup driven by
-- the array in order, so two calls renaming the same users lock them in the same
-- order. Changing no key, the UPDATE takes a NO KEY UPDATE lock, which does not
-- conflict with the key-share locks that concurrent inserts of sessions take on
-- their user through the foreign key. (No SELECT ... FOR UPDATE: Citus refuses it
-- across shards.)
UPDATE user_metrics.users AS u SET name = input.name
FROM unnest($1::bigint[], $2::text[]) AS input (user_key, name)
WHERE u.user_key = ANY ($1::bigint[])
  AND u.user_key = input.user_key
  AND u.name IS DISTINCT FROM input.name
