-- The extension's objects, as a DBA lists them.
SELECT p.proname AS function,
       pg_get_function_arguments(p.oid) AS arguments,
       p.prosecdef AS security_definer,
       p.proconfig AS settings,
       p.proacl AS privileges
FROM pg_proc AS p
WHERE p.pronamespace = 'user_metrics'::regnamespace
ORDER BY p.proname, pg_get_function_arguments(p.oid) COLLATE "C";
-- Only the owner has rights on the tables and the schema, apart from USAGE for the roles.
SELECT c.relname, c.relkind, c.relacl FROM pg_class AS c
WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind IN ('r', 'S')
ORDER BY c.relname;
SELECT n.nspacl FROM pg_namespace AS n WHERE n.nspname = 'user_metrics';
-- The tables belong to the superuser who ran CREATE EXTENSION. (psql's \dt shows
-- the same, under a title that differs between psql versions.)
SELECT c.relname AS table, pg_get_userbyid(c.relowner) AS owner FROM pg_class AS c
WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'r'
ORDER BY c.relname;
\d user_metrics.sessions
-- pg_dump saves the rows of every table and the position of every sequence.
SELECT cfg.relid::regclass AS dumped, cfg.condition
FROM pg_extension AS e, unnest(e.extconfig, e.extcondition) AS cfg (relid, condition)
WHERE e.extname = 'user_metrics'
ORDER BY cfg.relid::regclass::text;
-- The event trigger that refuses DROP EXTENSION while the tables hold rows.
SELECT t.evtname, t.evtevent, t.evttags, t.evtfoid::regproc AS function, t.evtenabled
FROM pg_event_trigger AS t
WHERE t.evtfoid = 'user_metrics.drop_guard()'::regprocedure;
