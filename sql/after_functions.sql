-- What CREATE EXTENSION does last, once every function exists: per-function
-- settings, then who may call what.

-- Every statement ingest_metrics and get_session_details run is a keyed lookup or
-- a keyed write. A backend plans each statement once and keeps the plan; if that
-- happens while the tables are still empty (a fresh install), the planner picks
-- sequential scans, which then stay for the life of the connection and grow slower
-- with every row. Sequential scans are never the right plan for these statements.
ALTER FUNCTION user_metrics.ingest_metrics(jsonb, text) SET enable_seqscan = off;
ALTER FUNCTION user_metrics.get_session_details(text) SET enable_seqscan = off;

-- DROP EXTENSION user_metrics deletes every row of its tables with them. This
-- event trigger refuses it while they hold rows, unless the DBA confirms with
-- SET user_metrics.allow_drop_with_data = on. It fires at the start of every
-- DROP EXTENSION, before anything is dropped; its function lets through any that
-- does not name user_metrics. An event trigger belongs to a superuser: the one
-- who runs CREATE EXTENSION.
CREATE EVENT TRIGGER user_metrics_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION user_metrics.drop_guard();

-- Who may call what.
--
-- Three NOLOGIN group roles carry the rights; a DBA grants them to login roles:
--   user_metrics_writer  ingest_metrics only
--   user_metrics_reader  the three reports and health()
--   user_metrics_admin   all of the above, reading, replaying and discarding
--                        quarantined events, and resync_sequences()
-- Nobody but the owner (the superuser who ran CREATE EXTENSION) has any right on
-- the tables or their sequences: every access goes through the functions, which
-- are SECURITY DEFINER with a fixed search_path.
--
-- Roles belong to the whole cluster, not to a database: a second CREATE EXTENSION
-- in another database finds them already there, and DROP EXTENSION leaves them.
-- An existing role of one of these names is used only if it is a NOLOGIN,
-- non-superuser role, so that a login role cannot be handed these rights by name.
DO $roles$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['user_metrics_writer', 'user_metrics_reader', 'user_metrics_admin'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = role_name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles AS r
                      WHERE r.rolname = role_name AND (r.rolcanlogin OR r.rolsuper)) THEN
            RAISE EXCEPTION 'role "%" already exists and can log in or is a superuser', role_name
                USING HINT = 'user_metrics grants rights to this role by name; it must be a NOLOGIN group role.';
        END IF;
    END LOOP;
END
$roles$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA user_metrics FROM PUBLIC;
REVOKE ALL ON SCHEMA user_metrics FROM PUBLIC;
GRANT USAGE ON SCHEMA user_metrics TO user_metrics_writer, user_metrics_reader, user_metrics_admin;

GRANT EXECUTE ON FUNCTION user_metrics.ingest_metrics(jsonb, text)
    TO user_metrics_writer, user_metrics_admin;

GRANT EXECUTE ON FUNCTION
    user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz),
    user_metrics.get_session_details(text),
    user_metrics.generate_weekly_report(timestamptz),
    user_metrics.health()
    TO user_metrics_reader, user_metrics_admin;

GRANT EXECUTE ON FUNCTION
    user_metrics.list_rejected_events(timestamptz, integer),
    user_metrics.replay_rejected(bigint[]),
    user_metrics.discard_rejected(bigint[]),
    user_metrics.resync_sequences()
    TO user_metrics_admin;
