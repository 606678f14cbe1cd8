-- The extension's objects, as a DBA lists them.
SELECT p.proname AS function,
       pg_get_function_arguments(p.oid) AS arguments,
       p.prosecdef AS security_definer,
       p.proconfig AS settings
FROM pg_proc AS p
WHERE p.pronamespace = 'user_metrics'::regnamespace
ORDER BY p.proname;
\dt user_metrics.*
\d user_metrics.sessions
