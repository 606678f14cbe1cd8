-- For the DROP EXTENSION guard, in a database with Citus (citus_installed.sql):
-- the tables of schema user_metrics that Citus distributes. user_metrics.distribute()
-- took them out of the extension, so DROP EXTENSION would leave them, with their
-- shards on the workers, behind.
SELECT p.logicalrelid::regclass::text AS table_name
FROM pg_dist_partition AS p
JOIN pg_class AS c ON c.oid = p.logicalrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'user_metrics'
ORDER BY 1
