-- list_rejected_events. $1: only those that arrived (last) at or after this time
-- (NULL: all); $2: at most this many rows. Latest arrival first, and of one
-- call's, the last in the batch first.
SELECT r.id, r.received_at, r.batch_index, r.event_id, r.error_code, r.error_message, r.payload,
       r.times_received, r.last_received_at
FROM user_metrics.rejected_events AS r
WHERE r.last_received_at >= COALESCE($1::timestamptz, '-infinity')
ORDER BY r.last_received_at DESC, r.batch_index DESC, r.id DESC
LIMIT $2::integer
