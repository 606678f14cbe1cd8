-- For the DROP EXTENSION guard: whether this database has Citus, whose catalog
-- distributed_tables.sql reads.
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')
