-- What CREATE EXTENSION does last, once every function exists: per-function
-- settings, the roles, who may call what, and last the owner of everything.

-- Every statement ingest_metrics, get_session_details and get_user_sessions run
-- is a keyed lookup or a keyed write. A backend plans each statement once and keeps the plan; if that
-- happens while the tables are still empty (a fresh install), the planner picks
-- sequential scans, which then stay for the life of the connection and grow slower
-- with every row. Sequential scans are never the right plan for these statements.
ALTER FUNCTION user_metrics.ingest_metrics(jsonb, text) SET enable_seqscan = off;
ALTER FUNCTION user_metrics.get_session_details(text, text) SET enable_seqscan = off;
ALTER FUNCTION user_metrics.get_user_sessions(text, timestamptz, timestamptz) SET enable_seqscan = off;

-- DROP EXTENSION user_metrics deletes every row of its tables with them, and so
-- do DROP SCHEMA user_metrics CASCADE (which drops the extension too), DROP OWNED
-- BY the role that owns the tables, and, on a Citus coordinator, DROP TABLE of
-- the distributed tables (no longer members of the extension). This event trigger
-- refuses each while the tables it would drop hold rows, unless the DBA confirms
-- with SET user_metrics.allow_drop_with_data = on. It fires at the start of each
-- such statement, before anything is dropped; its function lets through any that
-- drops nothing of user_metrics. An event trigger belongs to a superuser: the one
-- who runs CREATE EXTENSION.
CREATE EVENT TRIGGER user_metrics_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED', 'DROP TABLE')
    EXECUTE FUNCTION user_metrics.drop_guard();

-- Who may call what.
--
-- Four NOLOGIN roles per database. Three carry the rights; a DBA grants them to
-- login roles:
--   <prefix>_writer   ingest_metrics (and normalize_email, user_key)
--   <prefix>_reader   the reports, health(), the view ingest_stats,
--                     normalize_email and user_key
--   <prefix>_admin    all of the above, reading, replaying and discarding
--                     quarantined events, forget_user(), purge() and
--                     resync_sequences()
-- The fourth, <prefix>_owner, owns the tables, their sequences and the functions,
-- so the SECURITY DEFINER functions run with its rights: those of the tables and
-- nothing else. Nobody else has any right on the tables.
--
-- <prefix> is user_metrics unless the database sets user_metrics.role_prefix
-- (ALTER DATABASE ... SET), which gives a database roles of its own: roles belong
-- to the whole cluster, so without it a role granted user_metrics_writer for one
-- database may call ingest_metrics in every database of the cluster that has the
-- extension. The setting is read from the database, not from the session, so that
-- it is kept with the database (pg_dumpall, pg_dump --create) and read again by
-- every ALTER EXTENSION UPDATE. Its name is matched in any case, as PostgreSQL
-- matches setting names (ALTER DATABASE keeps "User_Metrics.Role_Prefix" as it was
-- written). A value that would be ignored is refused rather than ignored: one set
-- only for the session or the role (SET, ALTER ROLE ... SET) that differs from
-- the database's.
--
-- user_metrics grants its rights to these roles by name, so an existing role of
-- one of these names is used only if it can do nothing else: it must be NOLOGIN
-- with no other attribute and no password, be a member of no role, own nothing,
-- and have only members granted by a superuser (the DBA). Otherwise whatever else
-- it can do (run programs on the server through pg_execute_server_program, for
-- instance) would reach every application it is granted to.
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

-- The rights, granted by the default names. Nobody else may use the schema or call
-- anything.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA user_metrics FROM PUBLIC;
REVOKE ALL ON SCHEMA user_metrics FROM PUBLIC;
GRANT USAGE ON SCHEMA user_metrics TO user_metrics_writer, user_metrics_reader, user_metrics_admin;

GRANT SELECT ON user_metrics.ingest_stats TO user_metrics_reader, user_metrics_admin;

GRANT EXECUTE ON FUNCTION user_metrics.ingest_metrics(jsonb, text)
    TO user_metrics_writer, user_metrics_admin;

GRANT EXECUTE ON FUNCTION user_metrics.normalize_email(text), user_metrics.user_key(text)
    TO user_metrics_writer, user_metrics_reader, user_metrics_admin;

GRANT EXECUTE ON FUNCTION
    user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz),
    user_metrics.get_session_details(text, text),
    user_metrics.generate_weekly_report(timestamptz),
    user_metrics.generate_weekly_report(date, text),
    user_metrics.generate_activity_report(date, date, text, text),
    user_metrics.get_user_sessions(text, timestamptz, timestamptz),
    user_metrics.health()
    TO user_metrics_reader, user_metrics_admin;

GRANT EXECUTE ON FUNCTION
    user_metrics.list_rejected_events(timestamptz, integer),
    user_metrics.forget_user(text),
    user_metrics.purge(interval, integer),
    user_metrics.replay_rejected(bigint[]),
    user_metrics.discard_rejected(bigint[]),
    user_metrics.resync_sequences()
    TO user_metrics_admin;
-- Last: every object of the extension in schema user_metrics, whoever added it,
-- goes to the owner role, and in a database with its own role prefix the rights
-- granted above to the default roles go to the database's roles instead. This
-- stays the last statement of the script.
--
-- The owner role needs nothing but its own objects and USAGE on their schema:
-- health() also reads pg_class, pg_extension and pg_stat_get_live_tuples(), which
-- every role may. Event triggers must stay owned by a superuser, so they are left
-- alone (they belong to no schema anyway).
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
