-- For the DROP EXTENSION guard: each table DROP EXTENSION would drop, and whether
-- it holds at least one row. Those are the extension's member tables, read from
-- the catalog: on a Citus coordinator, users, sessions and events stop being
-- members when distributed (and may then be dropped before the extension), so no
-- fixed list of names would do. Each table is looked into with its own query
-- (query_to_xml runs it; the name comes from the catalog, quoted as regclass),
-- which stops at the first row, so this is cheap at any size. user_metrics.counters
-- is left out: it only sums the others.
SELECT c.oid::regclass::text AS table_name,
       query_to_xml(format('SELECT 1 FROM %s LIMIT 1', c.oid::regclass), false, true, '')::text <> '' AS has_rows
FROM pg_depend AS d
JOIN pg_class AS c ON c.oid = d.objid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT e.oid FROM pg_extension AS e WHERE e.extname = 'user_metrics')
  AND c.relkind = 'r'
  AND c.oid <> 'user_metrics.counters'::regclass
ORDER BY 1
