-- For the DROP EXTENSION guard: each table DROP EXTENSION would drop, with the
-- query that tells whether it holds a row. Those are the extension's member
-- tables, read from the catalog: on a Citus coordinator, users, sessions and
-- events stop being members when distributed (and may then be dropped before the
-- extension), so no fixed list of names would do. The probe names its table as
-- PostgreSQL quotes it (regclass), and EXISTS stops at the first row, so it is
-- cheap at any size. Left out: user_metrics.counters, which only sums the
-- others, and user_metrics.ingest_counters, statistics of the calls (a
-- #[pg_test] checks that every other table of the schema is here).
SELECT c.oid::regclass::text AS table_name,
       format('SELECT EXISTS (SELECT FROM %s)', c.oid::regclass) AS probe
FROM pg_depend AS d
JOIN pg_class AS c ON c.oid = d.objid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT e.oid FROM pg_extension AS e WHERE e.extname = 'user_metrics')
  AND c.relkind = 'r'
  AND c.relname NOT IN ('counters', 'ingest_counters')
ORDER BY 1
