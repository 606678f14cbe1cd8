-- Adds one call's changes to the row counts health() reports (counters) and, for
-- an ingest_metrics call, the call to the day's statistics (ingest_counters, view
-- ingest_stats): the last statement of a call, in its transaction. $1: this
-- backend's slot (its backend number, which no other running backend has, so
-- concurrent calls never wait here); $2..$5: rows the call added (or removed,
-- negative) to users, sessions, events and rejected_events: the counters row is
-- written only when one is not zero, and a call that stores events sets the time
-- of the latest (now(): what events.received_at gets); $6..$8: events accepted,
-- duplicates and refused; $9: the refused ones per code, as a JSON object; $10:
-- the call's time in microseconds. $6..$10 are NULL for the other functions that
-- write (replay_rejected, discard_rejected, forget_user, purge), which
-- ingest_stats does not count. Days are UTC days. No indexed column changes: HOT.
WITH counted AS (
    INSERT INTO user_metrics.counters AS c (slot, users, sessions, events, rejected, last_received_at)
    SELECT $1::integer, $2::bigint, $3::bigint, $4::bigint, $5::bigint,
           CASE WHEN $4::bigint > 0 THEN now() END
    WHERE $2::bigint <> 0 OR $3::bigint <> 0 OR $4::bigint <> 0 OR $5::bigint <> 0
    ON CONFLICT (slot) DO UPDATE SET
        users    = c.users + excluded.users,
        sessions = c.sessions + excluded.sessions,
        events   = c.events + excluded.events,
        rejected = c.rejected + excluded.rejected,
        last_received_at = GREATEST(c.last_received_at, excluded.last_received_at)
)
INSERT INTO user_metrics.ingest_counters AS c
    (day, slot, calls, accepted, duplicates, rejected, rejected_by_code, time_us_total, time_us_max)
SELECT (now() AT TIME ZONE 'UTC')::date, $1::integer, 1, $6::bigint, $7::bigint, $8::bigint,
       $9::jsonb, $10::bigint, $10::bigint
WHERE $6::bigint IS NOT NULL
ON CONFLICT (day, slot) DO UPDATE SET
    calls            = c.calls + 1,
    accepted         = c.accepted + excluded.accepted,
    duplicates       = c.duplicates + excluded.duplicates,
    rejected         = c.rejected + excluded.rejected,
    rejected_by_code = CASE
        WHEN excluded.rejected = 0 THEN c.rejected_by_code
        ELSE (SELECT jsonb_object_agg(m.code, m.n)
              FROM (SELECT r.code, sum(r.n::bigint) AS n
                    FROM (SELECT * FROM jsonb_each_text(c.rejected_by_code)
                          UNION ALL
                          SELECT * FROM jsonb_each_text(excluded.rejected_by_code)) AS r (code, n)
                    GROUP BY r.code) AS m)
    END,
    time_us_total    = c.time_us_total + excluded.time_us_total,
    time_us_max      = GREATEST(c.time_us_max, excluded.time_us_max)
