-- $1: ids of quarantined events. Returns each that exists with its payload as
-- JSON text, locked in id order so that two replays of the same events take turns.
SELECT r.id, r.payload::text
FROM user_metrics.rejected_events AS r
WHERE r.id = ANY ($1::bigint[])
ORDER BY r.id
FOR UPDATE
