-- Quarantined events that a replay refused again: the reason of the latest try.
UPDATE user_metrics.rejected_events AS r SET
    error_code       = t.error_code,
    error_message    = t.error_message,
    replay_count     = r.replay_count + 1,
    last_replayed_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t (id, error_code, error_message)
WHERE r.id = t.id
