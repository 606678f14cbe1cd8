-- On Citus, a call of one event whose user is new: the user, by a single-row
-- INSERT that Citus routes to its shard. $1: the user key; $2: the e-mail in
-- canonical form; $3: the name or NULL. No row returned: a concurrent call created
-- the user first (and has committed: the INSERT waited for it).
INSERT INTO user_metrics.users (user_key, email, name)
VALUES ($1::bigint, $2::text, $3::text)
ON CONFLICT (user_key) DO NOTHING
RETURNING user_key
