-- One row per rejected event, with its payload exactly as it was sent.
INSERT INTO user_metrics.rejected_events (batch_index, event_id, error_code, error_message, payload)
SELECT r.batch_index, r.event_id, r.error_code, r.error_message, r.payload::jsonb
FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[])
     AS r (batch_index, event_id, error_code, error_message, payload)
