-- user_metrics 0.3.0 -> 0.4.0. Run by ALTER EXTENSION user_metrics UPDATE. Brings a
-- 0.3.0 installation, with its data, to exactly what CREATE EXTENSION makes for
-- 0.4.0 (the upgrade test compares the two catalogs). It follows the pattern that
-- the top of user_metrics--0.2.0--0.3.0.sql spells out, so that it also runs on a
-- distributed installation (on the coordinator, with Citus's DDL propagation off).

-- == Safety checks =============================================================

-- The schema must still be what CREATE EXTENSION made it: owned by a superuser,
-- with nothing in it of a role that is not one (see sql/schema.sql, whose block
-- this is, word for word).
DO $schema$
DECLARE
    schema_oid oid := (SELECT n.oid FROM pg_catalog.pg_namespace AS n WHERE n.nspname = 'user_metrics');
    schema_owner text := (SELECT r.rolname FROM pg_catalog.pg_namespace AS n
                          JOIN pg_catalog.pg_roles AS r ON r.oid = n.nspowner WHERE n.oid = schema_oid);
    updating boolean := EXISTS (
        SELECT FROM pg_catalog.pg_depend AS d
        WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
          AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'user_metrics'));
    -- The role that owns the extension's objects once it is installed: the owner
    -- of its counters table, which is always a member of it.
    owner_role oid := (SELECT c.relowner FROM pg_catalog.pg_class AS c
                       JOIN pg_catalog.pg_depend AS d
                         ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                        AND d.deptype = 'e'
                       WHERE c.relnamespace = schema_oid AND c.relname = 'counters');
    problems text[] := ARRAY[]::text[];
    listed text;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_namespace AS n
            JOIN pg_catalog.pg_roles AS r ON r.oid = n.nspowner WHERE n.oid = schema_oid) THEN
        problems := problems || pg_catalog.format('it is owned by role "%s", which is not a superuser', schema_owner);
    END IF;

    SELECT pg_catalog.string_agg(coalesce(pg_catalog.format('"%s"', r.rolname), 'PUBLIC'), ', ' ORDER BY r.rolname)
    INTO listed
    FROM pg_catalog.pg_namespace AS n
    CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) AS a
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = a.grantee
    WHERE n.oid = schema_oid AND a.privilege_type = 'CREATE' AND NOT coalesce(r.rolsuper, false);
    IF listed IS NOT NULL THEN
        problems := problems || ('roles that are not superusers may create objects in it: ' || listed);
    END IF;

    SELECT pg_catalog.string_agg(pg_catalog.format('%s (owned by "%s")', o.what, r.rolname), ', ' ORDER BY o.what)
    INTO listed
    FROM (
        SELECT pg_catalog.format('%s %s', CASE WHEN c.relkind IN ('r', 'p') THEN 'table' ELSE 'relation' END,
                                 c.oid::pg_catalog.regclass) AS what, c.relowner AS owner
        FROM pg_catalog.pg_class AS c WHERE c.relnamespace = schema_oid
      UNION ALL
        SELECT 'function ' || p.oid::pg_catalog.regprocedure, p.proowner
        FROM pg_catalog.pg_proc AS p WHERE p.pronamespace = schema_oid
      UNION ALL
        SELECT 'type ' || t.oid::pg_catalog.regtype, t.typowner
        FROM pg_catalog.pg_type AS t WHERE t.typnamespace = schema_oid
      UNION ALL
        SELECT 'operator ' || o.oid::pg_catalog.regoperator, o.oprowner
        FROM pg_catalog.pg_operator AS o WHERE o.oprnamespace = schema_oid
      UNION ALL
        SELECT 'collation ' || c.collname, c.collowner
        FROM pg_catalog.pg_collation AS c WHERE c.collnamespace = schema_oid
      UNION ALL
        SELECT 'conversion ' || c.conname, c.conowner
        FROM pg_catalog.pg_conversion AS c WHERE c.connamespace = schema_oid
      UNION ALL
        SELECT 'operator class ' || c.opcname, c.opcowner
        FROM pg_catalog.pg_opclass AS c WHERE c.opcnamespace = schema_oid
      UNION ALL
        SELECT 'operator family ' || f.opfname, f.opfowner
        FROM pg_catalog.pg_opfamily AS f WHERE f.opfnamespace = schema_oid
      UNION ALL
        SELECT 'text search configuration ' || c.cfgname, c.cfgowner
        FROM pg_catalog.pg_ts_config AS c WHERE c.cfgnamespace = schema_oid
      UNION ALL
        SELECT 'text search dictionary ' || d.dictname, d.dictowner
        FROM pg_catalog.pg_ts_dict AS d WHERE d.dictnamespace = schema_oid
      UNION ALL
        SELECT 'statistics object ' || s.stxname, s.stxowner
        FROM pg_catalog.pg_statistic_ext AS s WHERE s.stxnamespace = schema_oid
    ) AS o
    JOIN pg_catalog.pg_roles AS r ON r.oid = o.owner
    WHERE NOT r.rolsuper AND o.owner IS DISTINCT FROM owner_role;
    IF listed IS NOT NULL THEN
        problems := problems || ('it holds objects of roles that are not superusers: ' || listed);
    END IF;

    IF pg_catalog.cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'user_metrics will not % schema "user_metrics", owned by role "%": %',
                CASE WHEN updating THEN 'update its objects in' ELSE 'install into' END,
                schema_owner, pg_catalog.array_to_string(problems, '; ')
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The owner of schema user_metrics, and any role that may create objects in it, could read and change every row the extension keeps and run code as whoever calls its functions.',
                  HINT = CASE WHEN updating
                      THEN 'As a superuser, give the schema back to a superuser (ALTER SCHEMA user_metrics OWNER TO ...), revoke CREATE on it from other roles, and drop what they put in it; then update again.'
                      ELSE 'As a superuser, look at what the schema holds, drop it (DROP SCHEMA user_metrics CASCADE), and run CREATE EXTENSION user_metrics again: it then makes the schema itself.'
                  END;
    END IF;
END
$schema$;

-- On a distributed installation, Citus would send this script's statements to the
-- workers, which have no extension: refuse, and say how to run it.
DO $citus$
BEGIN
    IF pg_catalog.current_setting('citus.enable_ddl_propagation', true) = 'on'
       AND pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        IF EXISTS (SELECT FROM pg_catalog.pg_class AS c
                   WHERE c.relnamespace = 'user_metrics'::pg_catalog.regnamespace
                     AND c.oid IN (SELECT p.logicalrelid FROM pg_catalog.pg_dist_partition AS p)) THEN
            RAISE EXCEPTION 'user_metrics is distributed with Citus: update it with citus.enable_ddl_propagation off'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'BEGIN; SET LOCAL citus.enable_ddl_propagation = off; ALTER EXTENSION user_metrics UPDATE; COMMIT;';
        END IF;
    END IF;
END
$citus$;

-- == The drop guard: every statement that would drop the data ==================

-- DROP SCHEMA user_metrics CASCADE, DROP OWNED BY the owner role and, on a Citus
-- coordinator, DROP TABLE of the distributed tables drop the extension's rows
-- as DROP EXTENSION does: the guard now fires for each (sql/after_functions.sql).
DROP EVENT TRIGGER user_metrics_drop_guard;
CREATE EVENT TRIGGER user_metrics_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED', 'DROP TABLE')
    EXECUTE FUNCTION user_metrics.drop_guard();

-- == The quarantine: an invalid event kept once ================================

CREATE FUNCTION user_metrics.payload_digest(payload jsonb) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO pg_catalog, pg_temp
    RETURN pg_catalog.sha256(pg_catalog.convert_to(payload::pg_catalog.text, 'UTF8'));
REVOKE ALL ON FUNCTION user_metrics.payload_digest(jsonb) FROM PUBLIC;
ALTER TABLE user_metrics.rejected_events
    ADD COLUMN payload_digest bytea GENERATED ALWAYS AS (user_metrics.payload_digest(payload)) STORED;
ALTER TABLE user_metrics.rejected_events
    ADD COLUMN times_received bigint NOT NULL DEFAULT 1
        CONSTRAINT rejected_events_times_received_check CHECK (times_received >= 1);
ALTER TABLE user_metrics.rejected_events
    ADD COLUMN last_received_at timestamptz NOT NULL DEFAULT now();
UPDATE user_metrics.rejected_events SET last_received_at = received_at;

-- 0.3.0 kept an invalid event once per arrival. The rows of one payload become
-- one: the first keeps its id, index and arrival, takes the latest reason and
-- arrival, counts them all and the replays; health()'s count loses the others.
WITH ranked AS (
    SELECT r.id, r.payload_digest,
           pg_catalog.first_value(r.id) OVER w AS first_id,
           pg_catalog.last_value(r.error_code) OVER w AS error_code,
           pg_catalog.last_value(r.error_message) OVER w AS error_message,
           pg_catalog.count(*) OVER w AS arrivals,
           pg_catalog.max(r.received_at) OVER w AS last_received_at,
           pg_catalog.sum(r.replay_count) OVER w AS replay_count,
           pg_catalog.max(r.last_replayed_at) OVER w AS last_replayed_at
    FROM user_metrics.rejected_events AS r
    WINDOW w AS (PARTITION BY r.payload_digest ORDER BY r.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
), merged AS (
    UPDATE user_metrics.rejected_events AS r SET
        error_code       = m.error_code,
        error_message    = m.error_message,
        times_received   = m.arrivals,
        last_received_at = m.last_received_at,
        replay_count     = m.replay_count,
        last_replayed_at = m.last_replayed_at
    FROM ranked AS m
    WHERE r.id = m.id AND m.id = m.first_id AND m.arrivals > 1
), gone AS (
    DELETE FROM user_metrics.rejected_events AS r
    USING ranked AS m
    WHERE r.id = m.id AND m.id <> m.first_id
    RETURNING 1
)
INSERT INTO user_metrics.counters AS c (slot, rejected)
SELECT 0, -pg_catalog.count(*) FROM gone HAVING pg_catalog.count(*) > 0
ON CONFLICT (slot) DO UPDATE SET rejected = c.rejected + excluded.rejected;

ALTER TABLE user_metrics.rejected_events
    ADD CONSTRAINT rejected_events_payload_key UNIQUE (payload_digest);
DROP INDEX user_metrics.rejected_events_received_idx;
CREATE INDEX rejected_events_last_received_idx ON user_metrics.rejected_events (last_received_at);

-- list_rejected_events shows how many times each event arrived and when it last
-- did, latest first.
DROP FUNCTION user_metrics.list_rejected_events(timestamptz, integer);
CREATE FUNCTION user_metrics.list_rejected_events(
    since timestamptz DEFAULT NULL, max_rows integer DEFAULT 100
) RETURNS TABLE (
    id bigint, received_at timestamptz, batch_index integer, event_id text,
    error_code text, error_message text, payload jsonb,
    times_received bigint, last_received_at timestamptz
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.4.0', 'list_rejected_events_wrapper';
REVOKE ALL ON FUNCTION user_metrics.list_rejected_events(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.list_rejected_events(timestamptz, integer) TO user_metrics_admin;

-- == The dashboard's reports: activity per day or week, a user's sessions =====

-- New: for user-metrics-http's dashboard (and psql), the calendar days or weeks
-- of a time zone with their sessions, users and talked time; and one user's
-- sessions in the columns of get_session_details.
CREATE FUNCTION user_metrics.generate_activity_report(
    first_day date, last_day date, tz text, per text DEFAULT 'day'
) RETURNS TABLE (period_start date, session_count bigint, user_count bigint, total_talked_time numeric)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.4.0', 'generate_activity_report_wrapper';

CREATE FUNCTION user_metrics.get_user_sessions(
    email text, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time numeric, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS 'user_metrics-0.4.0', 'get_user_sessions_wrapper';

REVOKE ALL ON FUNCTION
    user_metrics.generate_activity_report(date, date, text, text),
    user_metrics.get_user_sessions(text, timestamptz, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    user_metrics.generate_activity_report(date, date, text, text),
    user_metrics.get_user_sessions(text, timestamptz, timestamptz)
    TO user_metrics_reader, user_metrics_admin;

-- == The library: one per version ===============================================

-- Every C function this script does not replace above is pointed at 0.4.0's
-- library, each recreated from its own definition with only the library changed
-- (owner, grants and membership stay); see user_metrics--0.2.0--0.3.0.sql.
DO $library$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid, p.probin
        FROM pg_catalog.pg_proc AS p
        JOIN pg_catalog.pg_depend AS d
          ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e'
        WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
          AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'user_metrics')
          AND p.prolang = (SELECT l.oid FROM pg_catalog.pg_language AS l WHERE l.lanname = 'c')
          AND p.probin <> 'user_metrics-0.4.0'
    LOOP
        EXECUTE pg_catalog.replace(pg_catalog.pg_get_functiondef(f.oid),
                                   'AS ' || pg_catalog.quote_literal(f.probin) || ', ',
                                   'AS ' || pg_catalog.quote_literal('user_metrics-0.4.0') || ', ');
    END LOOP;
    IF EXISTS (SELECT FROM pg_catalog.pg_proc AS p
               WHERE p.pronamespace = 'user_metrics'::pg_catalog.regnamespace
                 AND p.probin IS NOT NULL AND p.probin <> 'user_metrics-0.4.0') THEN
        RAISE EXCEPTION 'a function of user_metrics still names a library other than user_metrics-0.4.0';
    END IF;
END
$library$;

-- == distribute(): in a transaction of its own ===================================
-- It now refuses to run in the transaction that created or updated the extension
-- (see its first checks), where it would deadlock with itself and leave on the
-- workers rights that stop a later CREATE EXTENSION there. The same text as
-- sql/distribute.sql.
CREATE OR REPLACE FUNCTION user_metrics.distribute(shard_count integer DEFAULT 32) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO pg_catalog, pg_temp
AS $distribute$
DECLARE
    tables constant regclass[] := ARRAY['user_metrics.users', 'user_metrics.sessions', 'user_metrics.events'];
    this_extension oid := (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'user_metrics');
    owner_role text;
    local_group integer;
    already_distributed integer;
    shards integer;
    worker_count integer;
    node record;
    member record;
    problems text[] := ARRAY[]::text[];
    unprepared text[] := ARRAY[]::text[];
    copy_names text[] := ARRAY[]::text[];
    copy_ports integer[] := ARRAY[]::integer[];
    messages text := pg_catalog.current_setting('client_min_messages');
    created xid;
    this_xact bigint;
    created_full bigint;
BEGIN
    -- It changes the extension itself and every node of the cluster.
    IF NOT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user), false) THEN
        RAISE EXCEPTION 'permission denied to distribute user_metrics'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'user_metrics.distribute() changes the extension and every node of the Citus cluster: only a superuser may call it.';
    END IF;
    IF shard_count IS NULL OR shard_count NOT BETWEEN 1 AND 64000 THEN
        RAISE EXCEPTION 'shard_count must be from 1 to 64000, got %', coalesce(shard_count::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension AS e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'user_metrics.distribute() needs Citus, which is not installed in database "%"',
                pg_catalog.current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Install Citus on every node, add citus to shared_preload_libraries, run CREATE EXTENSION citus in this database on every node and register the workers (citus_add_node), then call user_metrics.distribute() on the coordinator.';
    END IF;
    -- Only the coordinator holds the metadata; group 0 is the coordinator's.
    local_group := (SELECT g.groupid FROM pg_catalog.pg_dist_local_group AS g);
    IF local_group <> 0 THEN
        RAISE EXCEPTION 'user_metrics.distribute() must be called on the Citus coordinator, and this node is a worker (group %)', local_group
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Connect to the coordinator and call it there.';
    END IF;

    -- Not in the transaction that created or updated the extension: what follows
    -- asks the workers over connections of their own, which do not see the
    -- extension's new state and wait for this transaction's locks (seen: a
    -- distributed deadlock, and "relation users already exists" on a worker,
    -- with CREATE EXTENSION and this call sent as one string), and what those
    -- connections did first (the owner role's rights on the workers' schema)
    -- outlasts the rollback and stops a later CREATE EXTENSION there. This
    -- transaction (or one of its savepoints) last wrote the extension's row when
    -- that row's writer is still in progress; its 32-bit xmin is widened to the
    -- 64-bit id that pg_xact_status takes, in the epoch nearest to this one's.
    created := (SELECT e.xmin FROM pg_catalog.pg_extension AS e WHERE e.oid = this_extension);
    this_xact := pg_catalog.pg_current_xact_id()::text::bigint;
    created_full := (this_xact >> 32 << 32) | created::text::bigint;
    IF created_full > this_xact + 2147483648 THEN
        created_full := created_full - 4294967296;
    ELSIF created_full < this_xact - 2147483648 THEN
        created_full := created_full + 4294967296;
    END IF;
    IF pg_catalog.pg_xact_status(created_full::text::xid8) = 'in progress' THEN
        RAISE EXCEPTION 'user_metrics.distribute() cannot run in the transaction that created or updated the extension'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Commit CREATE EXTENSION (or ALTER EXTENSION) first, then call user_metrics.distribute() in a transaction of its own.';
    END IF;

    owner_role := (SELECT r.rolname FROM pg_catalog.pg_class AS c
                   JOIN pg_catalog.pg_roles AS r ON r.oid = c.relowner
                   WHERE c.oid = 'user_metrics.users'::regclass);
    already_distributed := (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_partition AS p
                            WHERE p.logicalrelid = ANY (tables));

    -- The workers. First look at each, changing nothing: which have a copy of the
    -- extension, and which are not prepared yet.
    FOR node IN
        SELECT * FROM pg_catalog.run_command_on_workers(pg_catalog.format($check$
            SELECT pg_catalog.concat_ws(';',
                CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_extension AS e WHERE e.extname = 'user_metrics')
                     THEN 'extension' END,
                CASE WHEN NOT coalesce((SELECT r.rolcanlogin FROM pg_catalog.pg_roles AS r WHERE r.rolname = %1$L), false)
                       OR NOT pg_catalog.has_schema_privilege(%1$L, 'user_metrics', 'USAGE')
                       OR NOT pg_catalog.has_schema_privilege(%1$L, 'user_metrics', 'CREATE')
                     THEN 'owner' END)
            $check$, owner_role))
    LOOP
        IF NOT node.success THEN
            RAISE EXCEPTION 'user_metrics.distribute() could not read worker %:%: %', node.nodename, node.nodeport, node.result
                USING ERRCODE = 'connection_failure';
        END IF;
        IF node.result ~ '(^|;)extension' THEN
            copy_names := copy_names || node.nodename;
            copy_ports := copy_ports || node.nodeport;
        END IF;
        IF node.result <> '' THEN
            unprepared := unprepared || pg_catalog.format('%s:%s', node.nodename, node.nodeport);
        END IF;
    END LOOP;
    -- A worker's copy of the extension must be empty: its rows were written on the
    -- worker itself, not through the coordinator, and dropping the copy would
    -- delete them. (These four tables are in the copy of every version.)
    IF pg_catalog.cardinality(copy_names) > 0 THEN
        FOR node IN
            SELECT r.node_name AS nodename, r.node_port AS nodeport, r.success, r.result
            FROM pg_catalog.master_run_on_worker(copy_names, copy_ports,
                     pg_catalog.array_fill($rows$
                         SELECT pg_catalog.concat_ws(', ',
                             CASE WHEN EXISTS (SELECT FROM user_metrics.events) THEN 'user_metrics.events' END,
                             CASE WHEN EXISTS (SELECT FROM user_metrics.rejected_events) THEN 'user_metrics.rejected_events' END,
                             CASE WHEN EXISTS (SELECT FROM user_metrics.sessions) THEN 'user_metrics.sessions' END,
                             CASE WHEN EXISTS (SELECT FROM user_metrics.users) THEN 'user_metrics.users' END)
                     $rows$::text, ARRAY[pg_catalog.cardinality(copy_names)]), true) AS r
        LOOP
            IF NOT node.success THEN
                RAISE EXCEPTION 'user_metrics.distribute() could not read worker %:%: %', node.nodename, node.nodeport, node.result
                    USING ERRCODE = 'connection_failure';
            END IF;
            IF node.result <> '' THEN
                problems := problems || pg_catalog.format('%s:%s (%s)', node.nodename, node.nodeport, node.result);
            END IF;
        END LOOP;
    END IF;
    IF pg_catalog.cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'cannot distribute user_metrics: workers hold rows in their own copies of its tables'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'On ' || pg_catalog.array_to_string(problems, '; ') || '. These rows were written on the worker itself, not through the coordinator.',
                  HINT = 'Save what they hold, empty those tables on that worker (TRUNCATE), then call user_metrics.distribute() again.';
    END IF;

    -- Then prepare them, in a transaction of their own on each worker, with
    -- Citus's propagation off there (these are the worker's own business): no
    -- copy of the extension, and an owner role that can log in and create the
    -- shards it is moved. (The role is missing there when the coordinator's
    -- update to 0.3.0 created it with propagation off; Citus takes it as it finds
    -- it.) The statements change nothing where already done.
    IF pg_catalog.cardinality(unprepared) > 0 THEN
        FOR node IN
            SELECT * FROM pg_catalog.run_command_on_workers(pg_catalog.format($prepare$
                BEGIN;
                SET LOCAL citus.enable_ddl_propagation = off;
                DROP EXTENSION IF EXISTS user_metrics;
                DO $role$ BEGIN
                    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = %1$L) THEN
                        CREATE ROLE %1$I;
                    END IF;
                END $role$;
                ALTER ROLE %1$I LOGIN;
                GRANT USAGE, CREATE ON SCHEMA user_metrics TO %1$I;
                COMMIT;
            $prepare$, owner_role))
        LOOP
            IF NOT node.success THEN
                RAISE EXCEPTION 'user_metrics.distribute() could not prepare worker %:%: %', node.nodename, node.nodeport, node.result
                    USING ERRCODE = 'connection_failure';
            END IF;
        END LOOP;
        RAISE NOTICE 'user_metrics: prepared workers %', pg_catalog.array_to_string(unprepared, ', ');
    END IF;

    -- Citus copies the coordinator's roles, attributes included, to the workers
    -- whenever it syncs them (adding a node, among others): the owner role must
    -- be able to log in on the coordinator too, or a sync takes that away from the
    -- workers. Citus passes this on to every worker. (The role has no password:
    -- pg_hba.conf decides who may log in as it; see the README.)
    IF NOT (SELECT r.rolcanlogin FROM pg_catalog.pg_roles AS r WHERE r.rolname = owner_role) THEN
        EXECUTE pg_catalog.format('ALTER ROLE %I LOGIN', owner_role);
    END IF;

    worker_count := (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_node AS n
                     WHERE n.groupid <> 0 AND n.isactive AND n.noderole = 'primary');
    IF already_distributed = pg_catalog.cardinality(tables) THEN
        shards := (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard AS s
                   WHERE s.logicalrelid = 'user_metrics.users'::regclass);
        RAISE NOTICE 'user_metrics is already distributed: % shards over % workers; nothing else to do', shards, worker_count;
        RETURN;
    END IF;

    -- Citus's own NOTICEs (member objects not propagated, local data copied) are
    -- about steps taken here on purpose.
    PERFORM pg_catalog.set_config('client_min_messages', 'warning', true);

    -- The coordinator no longer hands the extension to new workers.
    PERFORM pg_catalog.citus_unmark_object_distributed('pg_catalog.pg_extension'::regclass, this_extension, 0, false);

    -- The three tables and their identity sequences leave the extension. (This
    -- also takes them out of pg_extension_config_dump's list: they are ordinary
    -- tables now, and pg_dump treats them so.)
    FOR member IN
        SELECT c.oid::regclass AS object, c.relkind
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_depend AS e ON e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid
             AND e.refclassid = 'pg_catalog.pg_extension'::regclass AND e.refobjid = this_extension AND e.deptype = 'e'
        WHERE c.oid = ANY (tables)
           OR c.oid IN (SELECT i.objid FROM pg_catalog.pg_depend AS i
                        WHERE i.classid = 'pg_catalog.pg_class'::regclass AND i.refclassid = 'pg_catalog.pg_class'::regclass
                          AND i.refobjid = ANY (tables) AND i.deptype = 'i')
        ORDER BY c.relkind = 'S', c.oid
    LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION user_metrics DROP %s %s',
                                  CASE member.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, member.object);
    END LOOP;

    -- Distributed by user_key, co-located with users (the foreign keys require
    -- it), users first since the others refer to it. Rows already stored are
    -- copied to the shards; the coordinator's local copy of them is then emptied.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid = 'user_metrics.users'::regclass) THEN
        PERFORM pg_catalog.create_distributed_table('user_metrics.users', 'user_key',
                                                    colocate_with => 'none', shard_count => shard_count);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid = 'user_metrics.sessions'::regclass) THEN
        PERFORM pg_catalog.create_distributed_table('user_metrics.sessions', 'user_key',
                                                    colocate_with => 'user_metrics.users');
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid = 'user_metrics.events'::regclass) THEN
        PERFORM pg_catalog.create_distributed_table('user_metrics.events', 'user_key',
                                                    colocate_with => 'user_metrics.users');
    END IF;
    PERFORM pg_catalog.truncate_local_data_after_distributing_table('user_metrics.events');
    PERFORM pg_catalog.truncate_local_data_after_distributing_table('user_metrics.sessions');
    PERFORM pg_catalog.truncate_local_data_after_distributing_table('user_metrics.users');

    PERFORM pg_catalog.set_config('client_min_messages', messages, true);
    shards := (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard AS s
               WHERE s.logicalrelid = 'user_metrics.users'::regclass);
    RAISE NOTICE 'user_metrics: users, sessions and events are distributed by user_key: % shards over % workers', shards, worker_count;
END
$distribute$;

-- == Roles and privileges ======================================================

-- The two blocks that end sql/after_functions.sql, as they are there (the upgrade
-- test checks that they are the same text): the roles of this database checked,
-- then every object of the extension given to the owner role and, in a database
-- with a role prefix, the new rights moved to its own roles.
DO $roles$
DECLARE
    this_database oid := (SELECT d.oid FROM pg_catalog.pg_database AS d
                          WHERE d.datname = pg_catalog.current_database());
    prefixes text[] := ARRAY(
        SELECT DISTINCT pg_catalog.substr(c.setting, pg_catalog.strpos(c.setting, '=') + 1)
        FROM pg_catalog.pg_db_role_setting AS s
        CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS c(setting)
        WHERE s.setdatabase = this_database AND s.setrole = 0
          AND pg_catalog.lower(pg_catalog.split_part(c.setting, '=', 1)) = 'user_metrics.role_prefix');
    prefix text := coalesce(prefixes[1], 'user_metrics');
    session_prefix text := pg_catalog.current_setting('user_metrics.role_prefix', true);
    own_roles text[];
    role_name text;
    found_role pg_catalog.pg_authid;
    problems text[];
    listed text;
    refusals text[] := ARRAY[]::text[];
    with_citus boolean := pg_catalog.to_regclass('pg_catalog.pg_dist_local_group') IS NOT NULL;
BEGIN
    IF pg_catalog.cardinality(prefixes) > 1 THEN
        RAISE EXCEPTION 'database "%" sets user_metrics.role_prefix more than once, to %',
                pg_catalog.current_database(), pg_catalog.array_to_string(prefixes, ' and ')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep one: ALTER DATABASE ... RESET for each spelling of the name, then ALTER DATABASE ... SET user_metrics.role_prefix once.';
    END IF;
    IF session_prefix IS NOT NULL AND session_prefix <> '' AND session_prefix <> prefix THEN
        RAISE EXCEPTION 'user_metrics.role_prefix is "%" in this session but "%" for database "%"',
                session_prefix, prefix, pg_catalog.current_database()
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'user_metrics reads its role prefix from the database''s own settings only, so that every later ALTER EXTENSION UPDATE, pg_dump and pg_dumpall find it; a value set with SET, ALTER ROLE or the connection would be ignored.',
                  HINT = pg_catalog.format('ALTER DATABASE %I SET user_metrics.role_prefix = %L, then connect again and run the statement again.',
                                           pg_catalog.current_database(), session_prefix);
    END IF;
    -- At most 56 characters, so that the longest role name fits in 63.
    IF prefix !~ '^[a-z][a-z0-9_]{0,55}$' THEN
        RAISE EXCEPTION 'invalid value for setting "user_metrics.role_prefix": "%"', prefix
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It must be 1 to 56 lower-case letters, digits and underscores, starting with a letter.';
    END IF;
    own_roles := ARRAY[prefix || '_writer', prefix || '_reader', prefix || '_admin', prefix || '_owner'];
    PERFORM pg_catalog.set_config('user_metrics.checked_role_prefix', prefix, true);

    FOREACH role_name IN ARRAY own_roles LOOP
        SELECT a.* INTO found_role FROM pg_catalog.pg_authid AS a WHERE a.rolname = role_name;
        IF NOT FOUND THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
            CONTINUE;
        END IF;
        problems := ARRAY[]::text[];

        listed := pg_catalog.array_to_string(ARRAY[
            CASE WHEN found_role.rolsuper THEN 'SUPERUSER' END,
            -- In a database with Citus the owner role may log in (without a
            -- password): user_metrics.distribute() lets it, since Citus reaches
            -- the shards as that role, and roles belong to every database of the
            -- cluster's servers.
            CASE WHEN found_role.rolcanlogin
                      AND NOT (with_citus AND role_name = prefix || '_owner') THEN 'LOGIN' END,
            CASE WHEN found_role.rolcreaterole THEN 'CREATEROLE' END,
            CASE WHEN found_role.rolcreatedb THEN 'CREATEDB' END,
            CASE WHEN found_role.rolreplication THEN 'REPLICATION' END,
            CASE WHEN found_role.rolbypassrls THEN 'BYPASSRLS' END], ', ');
        IF listed <> '' THEN
            problems := problems || ('has ' || listed);
        END IF;
        IF found_role.rolpassword IS NOT NULL THEN
            problems := problems || 'has a password'::text;
        END IF;

        SELECT pg_catalog.string_agg(g.rolname, ', ' ORDER BY g.rolname) INTO listed
        FROM pg_catalog.pg_auth_members AS m
        JOIN pg_catalog.pg_roles AS g ON g.oid = m.roleid
        WHERE m.member = found_role.oid;
        IF listed IS NOT NULL THEN
            problems := problems || ('is a member of ' || listed);
        END IF;

        -- PostgreSQL 15 lets only a superuser record another role as grantor.
        SELECT pg_catalog.string_agg(pg_catalog.format('%s (granted by %s)', u.rolname,
                                                       coalesce(g.rolname, 'a dropped role')),
                                     ', ' ORDER BY u.rolname) INTO listed
        FROM pg_catalog.pg_auth_members AS m
        JOIN pg_catalog.pg_roles AS u ON u.oid = m.member
        LEFT JOIN pg_catalog.pg_roles AS g ON g.oid = m.grantor
        WHERE m.roleid = found_role.oid AND NOT coalesce(g.rolsuper, false);
        IF listed IS NOT NULL THEN
            problems := problems || ('has members not granted by a superuser: ' || listed);
        END IF;

        -- An object owned by the role, a SECURITY DEFINER function or a view for
        -- instance, would let its callers act as the role. Objects of this database
        -- and shared ones are named; other databases are only counted, as they
        -- cannot be looked into from here. The owner role of course owns the
        -- objects of the installations in other databases that use it, and, when
        -- ALTER EXTENSION UPDATE runs this, those of schema user_metrics here
        -- (whose other owners the schema check at the start has looked at).
        SELECT pg_catalog.string_agg(owned.what, ', ' ORDER BY owned.what) INTO listed
        FROM (
            SELECT pg_catalog.pg_describe_object(s.classid, s.objid, s.objsubid) AS what
            FROM pg_catalog.pg_shdepend AS s
            WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
              AND s.refobjid = found_role.oid AND s.deptype = 'o'
              AND s.dbid IN (0, this_database)
              AND NOT (role_name = prefix || '_owner' AND s.dbid = this_database
                       AND (pg_catalog.pg_identify_object(s.classid, s.objid, s.objsubid)).schema
                           = 'user_metrics')
          UNION ALL
            SELECT pg_catalog.format('%s objects in database "%s"', pg_catalog.count(*), d.datname)
            FROM pg_catalog.pg_shdepend AS s
            JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
            WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
              AND s.refobjid = found_role.oid AND s.deptype = 'o'
              AND s.dbid NOT IN (0, this_database)
              AND role_name <> prefix || '_owner'
            GROUP BY d.datname
        ) AS owned;
        IF listed IS NOT NULL THEN
            problems := problems || ('owns ' || listed);
        END IF;

        IF pg_catalog.cardinality(problems) > 0 THEN
            refusals := refusals || pg_catalog.format('role "%s" %s', role_name,
                                                      pg_catalog.array_to_string(problems, '; '));
        END IF;
    END LOOP;

    IF pg_catalog.cardinality(refusals) > 0 THEN
        RAISE EXCEPTION 'user_metrics cannot use existing roles: %', pg_catalog.array_to_string(refusals, '; and ')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'user_metrics grants its rights to these roles by name, so anything else such a role can do would reach everyone it is granted to.',
                  HINT = 'As a superuser, drop these roles or take away what is listed, then try again. A role of these names must be NOLOGIN with no other attribute and no password, be a member of no role, own nothing, and have only members granted by a superuser.';
    END IF;

    -- The extension's GRANT statements name the default roles, so these exist in
    -- every cluster; a database with a role prefix ends with no right granted to
    -- them (the owner block at the end moves those rights).
    FOREACH role_name IN ARRAY ARRAY['user_metrics_writer', 'user_metrics_reader', 'user_metrics_admin'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = role_name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
        END IF;
    END LOOP;

    -- Warn when the roles already have rights in another database. (A NOTICE would
    -- not be seen: CREATE EXTENSION runs its script with client_min_messages at
    -- WARNING or above.)
    SELECT pg_catalog.string_agg(pg_catalog.format('"%s"', elsewhere.datname), ', ' ORDER BY elsewhere.datname)
    INTO listed
    FROM (SELECT DISTINCT d.datname
          FROM pg_catalog.pg_shdepend AS s
          JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
          JOIN pg_catalog.pg_roles AS r ON r.oid = s.refobjid
          WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
            AND s.dbid NOT IN (0, this_database)
            AND r.rolname = ANY (own_roles[1:3])) AS elsewhere;
    IF listed IS NOT NULL THEN
        RAISE WARNING 'roles %, % and % also have rights in database %: a role granted one of them can use user_metrics in each of these databases',
            own_roles[1], own_roles[2], own_roles[3], listed
            USING HINT = 'To give a database roles of its own, set user_metrics.role_prefix for it before CREATE EXTENSION (see SECURITY.md).';
    END IF;
END
$roles$;

DO $owner$
DECLARE
    -- Read and checked by the roles block above, which hands it on for this
    -- transaction only.
    prefix text := pg_catalog.current_setting('user_metrics.checked_role_prefix');
    owner_role text := prefix || '_owner';
    member record;
    current_owner oid;
BEGIN
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA user_metrics TO %I', owner_role);

    -- Tables first: each takes its identity sequences with it.
    FOR member IN
        SELECT d.classid, d.objid, o.type, o.identity
        FROM pg_catalog.pg_depend AS d
        CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, 0) AS o
        WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
          AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'user_metrics')
          AND d.classid <> 'pg_catalog.pg_event_trigger'::pg_catalog.regclass
          AND o.schema = 'user_metrics'
          -- distribute() runs as the superuser who calls it and changes every
          -- node of a Citus cluster: it stays with the superuser who installed the
          -- extension, so that the owner role cannot change what a superuser runs.
          AND (d.classid, d.objid) <> ('pg_catalog.pg_proc'::pg_catalog.regclass,
                                       'user_metrics.distribute(integer)'::pg_catalog.regprocedure)
        ORDER BY o.type = 'sequence', o.type, o.identity
    LOOP
        current_owner := CASE member.classid
            WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN
                (SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid = member.objid)
            WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN
                (SELECT p.proowner FROM pg_catalog.pg_proc AS p WHERE p.oid = member.objid)
            WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN
                (SELECT t.typowner FROM pg_catalog.pg_type AS t WHERE t.oid = member.objid)
        END;
        CONTINUE WHEN current_owner = owner_role::pg_catalog.regrole;
        -- The row type of a table or view, and its array type (members of their
        -- own on PostgreSQL 18), go with their relation.
        CONTINUE WHEN member.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
            AND EXISTS (SELECT FROM pg_catalog.pg_type AS t
                        LEFT JOIN pg_catalog.pg_type AS e ON e.oid = t.typelem
                        WHERE t.oid = member.objid AND (t.typrelid <> 0 OR e.typrelid <> 0));
        IF member.type NOT IN ('table', 'sequence', 'view', 'materialized view', 'foreign table',
                               'function', 'procedure', 'aggregate', 'type') THEN
            RAISE EXCEPTION 'user_metrics cannot give % to its owner role', member.identity
                USING DETAIL = pg_catalog.format('Objects of type %s are not handled.', member.type);
        END IF;
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %I', pg_catalog.upper(member.type), member.identity, owner_role);
    END LOOP;

    IF prefix = 'user_metrics' THEN
        RETURN;
    END IF;
    -- Move every right of a default role on the schema and the objects to the
    -- database's role of the same kind.
    FOR member IN
        SELECT objects.keyword, objects.identity, g.rolname AS grantee, a.is_grantable,
               pg_catalog.string_agg(a.privilege_type, ', ') AS privileges
        FROM (
            SELECT CASE o.type WHEN 'sequence' THEN 'SEQUENCE' WHEN 'function' THEN 'FUNCTION'
                               WHEN 'aggregate' THEN 'FUNCTION' WHEN 'procedure' THEN 'PROCEDURE'
                               WHEN 'type' THEN 'TYPE' ELSE 'TABLE' END AS keyword,
                   o.identity,
                   coalesce(c.relacl, p.proacl, t.typacl) AS acl
            FROM pg_catalog.pg_depend AS d
            CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, 0) AS o
            LEFT JOIN pg_catalog.pg_class AS c
                   ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = d.objid
            LEFT JOIN pg_catalog.pg_proc AS p
                   ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.objid
            LEFT JOIN pg_catalog.pg_type AS t
                   ON d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = d.objid
            WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
              AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'user_metrics')
              AND d.classid <> 'pg_catalog.pg_event_trigger'::pg_catalog.regclass
              AND o.schema = 'user_metrics'
          UNION ALL
            SELECT 'SCHEMA', 'user_metrics', n.nspacl
            FROM pg_catalog.pg_namespace AS n WHERE n.nspname = 'user_metrics'
        ) AS objects
        CROSS JOIN LATERAL pg_catalog.aclexplode(objects.acl) AS a
        JOIN pg_catalog.pg_roles AS g ON g.oid = a.grantee
        WHERE g.rolname IN ('user_metrics_writer', 'user_metrics_reader', 'user_metrics_admin')
        GROUP BY objects.keyword, objects.identity, g.rolname, a.is_grantable
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON %s %s TO %I%s', member.privileges, member.keyword, member.identity,
                                  prefix || pg_catalog.substr(member.grantee, pg_catalog.length('user_metrics') + 1),
                                  CASE WHEN member.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %I', member.keyword, member.identity, member.grantee);
    END LOOP;
END
$owner$;
