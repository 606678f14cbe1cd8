-- user_metrics 0.2.0 -> 0.3.0. Run by ALTER EXTENSION user_metrics UPDATE. Brings a
-- 0.2.0 installation, with its data, to exactly what CREATE EXTENSION makes for
-- 0.3.0 (the upgrade test compares the two catalogs). Every constraint is named and
-- every change is a statement of its own.

-- == Safety checks =============================================================

-- DROP EXTENSION user_metrics is refused while its tables hold rows, unless
-- user_metrics.allow_drop_with_data is on (see sql/after_functions.sql).
CREATE FUNCTION user_metrics.drop_guard() RETURNS event_trigger
    LANGUAGE c
    SET search_path TO pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'drop_guard_wrapper';
REVOKE ALL ON FUNCTION user_metrics.drop_guard() FROM PUBLIC;
CREATE EVENT TRIGGER user_metrics_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION user_metrics.drop_guard();

-- == Data: exact totals, one identity per person, exact counts =================

-- == Backups and replication ===================================================

-- pg_dump keeps the rows of every table and the position of every identity
-- sequence (see the end of sql/schema.sql).
SELECT pg_catalog.pg_extension_config_dump('user_metrics.users', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.sessions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.events', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.rejected_events', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.rejected_events_id_seq', '');

-- The cut-over after logical replication: identity sequences moved past their tables.
CREATE FUNCTION user_metrics.resync_sequences() RETURNS TABLE (
    table_name text,
    sequence_name text,
    max_id bigint,
    previous_value bigint,
    new_value bigint
)
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'resync_sequences_wrapper';
REVOKE ALL ON FUNCTION user_metrics.resync_sequences() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.resync_sequences() TO user_metrics_admin;

-- == Roles and privileges ======================================================
