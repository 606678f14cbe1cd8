-- $1: the batch's user keys. Returns those of users erased with forget_user, with
-- the time of the latest erasure in microseconds since the Unix epoch: their
-- events of sessions that started before it are refused, and not kept.
SELECT f.user_key,
       (EXTRACT(epoch FROM max(f.forgotten_at)) * 1000000)::bigint AS forgotten_at_micros
FROM user_metrics.forgotten_users AS f
WHERE f.user_key = ANY ($1::bigint[])
GROUP BY f.user_key
