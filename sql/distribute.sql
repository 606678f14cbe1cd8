-- Scaling out with Citus: user_metrics.distribute() splits users, sessions and
-- events by user_key across the workers of a Citus cluster, co-located, so that
-- each user's rows live together on one node. Called once, by a superuser, on the
-- coordinator; the same text is in the 0.3.0 -> 0.4.0 upgrade script (the one in
-- the 0.2.0 -> 0.3.0 script is the version before, without the check of the
-- creating transaction).
--
-- What Citus requires, and so what it does:
--   - CREATE EXTENSION on the coordinator is repeated by Citus on every worker,
--     which gets member copies of the tables. Citus creates a distributed table's
--     "shell" on each worker under the same name, which those copies block, and
--     a distributed table that stays a member of an extension takes no further
--     DDL (ALTER TABLE reaches none of its shards). So the three tables leave the
--     extension, and the extension leaves the workers: it lives on the
--     coordinator only, where the local tables (rejected_events, counters) and
--     the functions are.
--   - Citus would create the extension again on every worker added later (it is
--     recorded in pg_dist_object): that record goes.
--   - Citus reaches the shards as the role that runs a query, which inside the
--     functions (SECURITY DEFINER) is the owner role, and it moves shards
--     (rebalancing) as the tables' owner, creating tables in the schema. So the
--     owner role may log in (on every node: Citus copies the coordinator's role
--     attributes to the workers), and on the workers create objects in schema
--     user_metrics.
-- Every step checks before it acts, so a second call changes nothing; called
-- again after a worker is added, it prepares that worker.
CREATE FUNCTION user_metrics.distribute(shard_count integer DEFAULT 32) RETURNS void
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
REVOKE ALL ON FUNCTION user_metrics.distribute(integer) FROM PUBLIC;
COMMENT ON FUNCTION user_metrics.distribute(integer) IS
    'Citus: distributes users, sessions and events by user_key over the workers (superuser, on the coordinator).';
