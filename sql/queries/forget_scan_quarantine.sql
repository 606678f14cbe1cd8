-- forget_user. $1: the last id read (0 to start); $2: how many rows at most. The
-- next quarantined events in id order, with every text that may hold the address:
-- the payload as JSON text, the message and the event id. The quarantine is read
-- a slice at a time, so that its size does not bound what forget_user can hold in
-- memory; which rows mention the address is decided in Rust (contract::mention),
-- with the same normalization as ingestion.
SELECT r.id, r.payload::text AS payload, r.error_message, r.event_id
FROM user_metrics.rejected_events AS r
WHERE r.id > $1::bigint
ORDER BY r.id
LIMIT $2::integer
