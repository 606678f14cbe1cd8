-- For the drop guard: each table the statement would drop, with the query that
-- tells whether it holds a row. $1: DROP EXTENSION, which drops the extension's
-- member tables only (on a Citus coordinator, users, sessions and events stop
-- being members when distributed, and may then be dropped before the extension,
-- so no fixed list of names would do); otherwise every table of the schema (DROP
-- SCHEMA, DROP OWNED), or, with $2, those of its tables that DROP TABLE names.
-- The probe names its table as PostgreSQL quotes it (regclass), and EXISTS stops
-- at the first row, so it is cheap at any size. It selects a constant, not an
-- empty target list, which Citus cannot plan for a distributed table. Left out: user_metrics.counters,
-- which only sums the others, and user_metrics.ingest_counters, statistics of
-- the calls (a #[pg_test] checks that every other table of the schema is here).
SELECT c.oid::regclass::text AS table_name,
       format('SELECT EXISTS (SELECT 1 FROM %s)', c.oid::regclass) AS probe
FROM pg_class AS c
WHERE c.relnamespace = 'user_metrics'::regnamespace
  AND c.relkind IN ('r', 'p')
  AND c.relname NOT IN ('counters', 'ingest_counters')
  AND (NOT $1::boolean OR c.oid IN (
        SELECT d.objid FROM pg_depend AS d
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
          AND d.deptype = 'e'
          AND d.refobjid = (SELECT e.oid FROM pg_extension AS e WHERE e.extname = 'user_metrics')))
  AND ($2::oid[] IS NULL OR c.oid = ANY ($2::oid[]))
ORDER BY 1
