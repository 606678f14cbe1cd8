-- On Citus, a call of one event (src/storage/store_one_routed.rs) starts here:
-- whether forget_user erased its user ($1: the user key). forgotten_users stays on
-- the coordinator, so this runs there, apart from the statements that Citus
-- routes to the user's shard. An erased user's event is left to the general path,
-- which decides by its session's start whether it is kept.
SELECT EXISTS (SELECT FROM user_metrics.forgotten_users AS f WHERE f.user_key = $1::bigint) AS erased
