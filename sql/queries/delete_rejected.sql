-- $1: ids of quarantined events to remove (replayed successfully, discarded, or
-- holding an address that forget_user erases).
DELETE FROM user_metrics.rejected_events AS r
WHERE r.id = ANY ($1::bigint[])
RETURNING r.id
