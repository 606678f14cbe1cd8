-- Adds one ingest_metrics call to the day's statistics (ingest_stats). $1: this
-- backend's slot, so that concurrent calls never wait for each other here (the
-- counters of health() work the same way); $2..$4: events accepted, duplicates
-- and refused; $5: the refused ones per code, as a JSON object; $6: the call's
-- time in microseconds. Days are UTC days.
INSERT INTO user_metrics.ingest_counters AS c
    (day, slot, calls, accepted, duplicates, rejected, rejected_by_code, time_us_total, time_us_max)
VALUES ((now() AT TIME ZONE 'UTC')::date, $1::integer, 1, $2::bigint, $3::bigint, $4::bigint,
        $5::jsonb, $6::bigint, $6::bigint)
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
