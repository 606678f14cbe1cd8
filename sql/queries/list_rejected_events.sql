-- list_rejected_events. $1: only those received at or after this time (NULL: all);
-- $2: at most this many rows. Newest first.
SELECT r.id, r.received_at, r.batch_index, r.event_id, r.error_code, r.error_message, r.payload
FROM user_metrics.rejected_events AS r
WHERE r.received_at >= COALESCE($1::timestamptz, '-infinity')
ORDER BY r.id DESC
LIMIT $2::integer
