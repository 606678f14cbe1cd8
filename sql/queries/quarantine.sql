-- Keeps a call's rejected events, each distinct one once. $1..$5: per rejected
-- event, its index in the batch, event_id, error code, message and payload (JSON
-- text). Events of the batch with the same payload (as jsonb prints it) are one
-- row, with the first index and their number as times_received; a payload the
-- quarantine holds already adds to that row's times_received and moves its
-- last_received_at (the reason becomes this call's, as replay_rejected does).
-- Rows are written in the order of their payload digest, the unique key, so that
-- concurrent calls wait for each other's rows in one order and cannot deadlock.
-- Returns, per row, whether this call created it (a row an insert created has no
-- xmax; one that ON CONFLICT updated has this transaction's), which health()'s
-- count of quarantined events needs.
WITH kept AS (
    INSERT INTO user_metrics.rejected_events AS q
        (batch_index, event_id, error_code, error_message, payload, times_received)
    SELECT min(r.batch_index), r.event_id, r.error_code, r.error_message, r.document::jsonb, count(*)
    FROM (SELECT u.batch_index, u.event_id, u.error_code, u.error_message,
                 u.payload::jsonb::text AS document
          FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[])
               AS u (batch_index, event_id, error_code, error_message, payload)) AS r
    GROUP BY r.document, r.event_id, r.error_code, r.error_message
    ORDER BY user_metrics.payload_digest(r.document::jsonb)
    ON CONFLICT (payload_digest) DO UPDATE SET
        times_received   = q.times_received + excluded.times_received,
        last_received_at = excluded.last_received_at,
        error_code       = excluded.error_code,
        error_message    = excluded.error_message
    RETURNING q.xmax = 0 AS created
)
SELECT * FROM kept
