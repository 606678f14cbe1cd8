-- generate_activity_report's periods: each calendar day ($4 = 'day') or week
-- from Monday ($4 = 'week') in the time zone $3, from the one holding the date
-- $1 to the one holding the date $2, with its bounds as instants: from local
-- midnight to local midnight, 23, 25, 167 or 169 hours long when the clocks
-- change in it. Reads no table. An unknown zone raises 22023.
SELECT p.local_start::date AS period_start,
       p.local_start AT TIME ZONE $3::text AS period_from,
       (p.local_start + ('1 ' || $4::text)::interval) AT TIME ZONE $3::text AS period_to
FROM generate_series(date_trunc($4::text, $1::date::timestamp),
                     date_trunc($4::text, $2::date::timestamp),
                     ('1 ' || $4::text)::interval) AS p (local_start)
ORDER BY p.local_start
