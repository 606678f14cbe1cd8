-- user_metrics 0.2.0 -> 0.3.0. Run by ALTER EXTENSION user_metrics UPDATE. Brings a
-- 0.2.0 installation, with its data, to exactly what CREATE EXTENSION makes for
-- 0.3.0 (the upgrade test compares the two catalogs). Every constraint is named and
-- every change is a statement of its own.
--
-- From 0.3.0 on, an installation may be distributed with Citus (see
-- user_metrics.distribute(), in its section below): users, sessions and events
-- are then Citus's tables, no longer members of the extension, the extension
-- lives on the coordinator only, and the DBA runs ALTER EXTENSION UPDATE there
-- with citus.enable_ddl_propagation off (or Citus would send the statement to
-- workers that have no extension). Citus passes a DDL statement on to the shards
-- by its text, which in an extension script is the whole script, and refuses it.
-- So every upgrade script after this one follows this pattern:
--   1. it begins with a block that refuses, with a clear message, an update of a
--      distributed installation run with propagation on:
--        DO $citus$
--        BEGIN
--            IF pg_catalog.current_setting('citus.enable_ddl_propagation', true) = 'on'
--               AND pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
--                IF EXISTS (SELECT FROM pg_catalog.pg_class AS c
--                           WHERE c.relnamespace = 'user_metrics'::pg_catalog.regnamespace
--                             AND c.oid IN (SELECT p.logicalrelid FROM pg_catalog.pg_dist_partition AS p)) THEN
--                    RAISE EXCEPTION 'user_metrics is distributed with Citus: update it with citus.enable_ddl_propagation off'
--                        USING ERRCODE = 'object_not_in_prerequisite_state',
--                              HINT = 'BEGIN; SET LOCAL citus.enable_ddl_propagation = off; ALTER EXTENSION user_metrics UPDATE; COMMIT;';
--                END IF;
--            END IF;
--        END
--        $citus$;
--   2. each DDL statement on users, sessions or events is alone in an EXECUTE, in
--      a DO block of its own that turns propagation on for it (the setting does
--      not exist without Citus, and the block then leaves it alone):
--        DO $ddl$
--        DECLARE
--            propagation text := pg_catalog.current_setting('citus.enable_ddl_propagation', true);
--        BEGIN
--            IF propagation IS NOT NULL THEN
--                PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'on', true);
--            END IF;
--            EXECUTE 'ALTER TABLE user_metrics.events ADD COLUMN channel text';
--            IF propagation IS NOT NULL THEN
--                PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', propagation, true);
--            END IF;
--        END
--        $ddl$;
--   3. every constraint and index is named (each shard's copy is named after it);
--   4. a new table is created as a member of the extension, local to the
--      coordinator: distribute() knows users, sessions and events only.
-- tests/citus/test_upgrades.py installs a next version written this way and
-- checks every shard after the update.

-- == Safety checks =============================================================

-- DROP EXTENSION user_metrics is refused while its tables hold rows, unless
-- user_metrics.allow_drop_with_data is on (see sql/after_functions.sql).
CREATE FUNCTION user_metrics.drop_guard() RETURNS event_trigger
    LANGUAGE c
    SET search_path TO pg_catalog, pg_temp
    AS 'user_metrics-0.3.0', 'drop_guard_wrapper';
REVOKE ALL ON FUNCTION user_metrics.drop_guard() FROM PUBLIC;
CREATE EVENT TRIGGER user_metrics_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION user_metrics.drop_guard();

-- == Data: exact totals, one identity per person, exact counts =================

-- E-mails in their canonical form (case folding and NFC): the function that
-- ingestion, reports and this script use.
CREATE FUNCTION user_metrics.normalize_email(email text) RETURNS text
    IMMUTABLE STRICT PARALLEL SAFE
    LANGUAGE c AS 'user_metrics-0.3.0', 'normalize_email_wrapper';

-- Users that 0.2.0 split because their addresses differ only in Unicode normal
-- form or in case folding (final sigma, ß) become one: the oldest user row keeps
-- the sessions of the others and the latest name any of them had. An address
-- whose canonical form would exceed 254 characters (possible only for ß-heavy
-- addresses) keeps its 0.2.0 form.
CREATE TEMPORARY TABLE user_metrics_merge AS
SELECT u.id,
       min(u.id) OVER same AS keep_id,
       user_metrics.normalize_email(u.email) AS email
FROM user_metrics.users AS u
WHERE length(user_metrics.normalize_email(u.email)) <= 254
WINDOW same AS (PARTITION BY user_metrics.normalize_email(u.email));

UPDATE user_metrics.sessions AS s
SET user_id = m.keep_id
FROM user_metrics_merge AS m
WHERE s.user_id = m.id AND m.id <> m.keep_id;

UPDATE user_metrics.users AS u
SET name = latest.name
FROM (SELECT DISTINCT ON (m.keep_id) m.keep_id, n.name
      FROM user_metrics_merge AS m
      JOIN user_metrics.users AS n ON n.id = m.id
      WHERE n.name IS NOT NULL
      ORDER BY m.keep_id, n.id DESC) AS latest
WHERE u.id = latest.keep_id AND u.name IS DISTINCT FROM latest.name;

DELETE FROM user_metrics.users AS u
USING user_metrics_merge AS m
WHERE u.id = m.id AND m.id <> m.keep_id;

UPDATE user_metrics.users AS u
SET email = m.email
FROM user_metrics_merge AS m
WHERE u.id = m.id AND m.id = m.keep_id AND u.email <> m.email;

DROP TABLE user_metrics_merge;

-- Exact numbers. Each stored double becomes the decimal it was sent as: its
-- shortest text that reads back as the same double (extra_float_digits = 1), kept
-- to 9 decimal places like new events. Session totals are then summed again from
-- their events, exactly.
SET LOCAL extra_float_digits = 1;

ALTER TABLE user_metrics.events DROP CONSTRAINT events_talked_time_check;
ALTER TABLE user_metrics.events DROP CONSTRAINT events_voice_sentiment_check;
ALTER TABLE user_metrics.events
    ALTER COLUMN talked_time TYPE numeric USING
        CASE WHEN scale(talked_time::text::numeric) > 9
             THEN trim_scale(round(talked_time::text::numeric, 9))
             ELSE talked_time::text::numeric END,
    ALTER COLUMN voice_sentiment TYPE numeric USING
        CASE WHEN scale(voice_sentiment::text::numeric) > 9
             THEN trim_scale(round(voice_sentiment::text::numeric, 9))
             ELSE voice_sentiment::text::numeric END;
ALTER TABLE user_metrics.events ADD CONSTRAINT events_talked_time_check
    CHECK (talked_time >= 0 AND talked_time <= 86400);
ALTER TABLE user_metrics.events ADD CONSTRAINT events_voice_sentiment_check
    CHECK (voice_sentiment >= -1 AND voice_sentiment <= 1);

ALTER TABLE user_metrics.sessions DROP CONSTRAINT sessions_talked_time_check;
ALTER TABLE user_metrics.sessions ALTER COLUMN talked_time DROP DEFAULT;
ALTER TABLE user_metrics.sessions ALTER COLUMN sentiment_sum DROP DEFAULT;
ALTER TABLE user_metrics.sessions
    ALTER COLUMN talked_time TYPE numeric USING 0,
    ALTER COLUMN sentiment_sum TYPE numeric USING 0;
ALTER TABLE user_metrics.sessions ALTER COLUMN talked_time SET DEFAULT 0;
ALTER TABLE user_metrics.sessions ALTER COLUMN sentiment_sum SET DEFAULT 0;
UPDATE user_metrics.sessions AS s
SET talked_time = t.talked_time, sentiment_sum = t.sentiment_sum
FROM (SELECT e.session_id,
             sum(e.talked_time) AS talked_time,
             COALESCE(sum(e.voice_sentiment), 0) AS sentiment_sum
      FROM user_metrics.events AS e
      GROUP BY e.session_id) AS t
WHERE s.id = t.session_id;
ALTER TABLE user_metrics.sessions ADD CONSTRAINT sessions_talked_time_check
    CHECK (talked_time >= 0);

-- == The user key: every row keyed by its user ==================================

-- Every row of users, sessions and events gets its user's key (64 bits of the
-- SHA-256 of the canonical e-mail, see sql/schema.sql), and every key includes
-- it, so that the tables can be distributed by user with Citus. Session ids and
-- event ids become unique per user: keys that were unique across users remain
-- unique per user, so no row conflicts. users.id and sessions.user_id give way
-- to the key.
CREATE FUNCTION user_metrics.user_key(email text) RETURNS bigint
    IMMUTABLE STRICT PARALLEL SAFE
    LANGUAGE c AS 'user_metrics-0.3.0', 'user_key_wrapper';

ALTER TABLE user_metrics.users ADD COLUMN user_key bigint;
UPDATE user_metrics.users SET user_key = user_metrics.user_key(email);
DO $collisions$
DECLARE
    pair text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s and %s', u.email, v.email), '; ')
    INTO pair
    FROM user_metrics.users AS u
    JOIN user_metrics.users AS v ON v.user_key = u.user_key AND v.email > u.email;
    IF pair IS NOT NULL THEN
        RAISE EXCEPTION 'user_metrics cannot key these users: their e-mails share a user key: %', pair
            USING ERRCODE = 'unique_violation',
                  HINT = 'Merge or remove one of each pair, then run ALTER EXTENSION user_metrics UPDATE again.';
    END IF;
END
$collisions$;
ALTER TABLE user_metrics.users ALTER COLUMN user_key SET NOT NULL;

ALTER TABLE user_metrics.sessions ADD COLUMN user_key bigint;
UPDATE user_metrics.sessions AS s
SET user_key = u.user_key
FROM user_metrics.users AS u
WHERE u.id = s.user_id;
ALTER TABLE user_metrics.sessions ALTER COLUMN user_key SET NOT NULL;

ALTER TABLE user_metrics.events ADD COLUMN user_key bigint;
UPDATE user_metrics.events AS e
SET user_key = s.user_key
FROM user_metrics.sessions AS s
WHERE s.id = e.session_id;
ALTER TABLE user_metrics.events ALTER COLUMN user_key SET NOT NULL;

-- The keys of 0.2.0 (its foreign keys and indexes were unnamed: these are the
-- names PostgreSQL gave them).
ALTER TABLE user_metrics.events DROP CONSTRAINT events_session_id_fkey;
ALTER TABLE user_metrics.events DROP CONSTRAINT events_event_id_key;
ALTER TABLE user_metrics.events DROP CONSTRAINT events_pkey;
DROP INDEX user_metrics.events_session_idx;
ALTER TABLE user_metrics.sessions DROP CONSTRAINT sessions_user_id_fkey;
ALTER TABLE user_metrics.sessions DROP CONSTRAINT sessions_client_session_id_key;
ALTER TABLE user_metrics.sessions DROP CONSTRAINT sessions_pkey;
-- Also drops sessions_user_started_idx and sessions_started_idx, made again below.
ALTER TABLE user_metrics.sessions DROP COLUMN user_id;
ALTER TABLE user_metrics.users DROP CONSTRAINT users_email_key;
ALTER TABLE user_metrics.users DROP CONSTRAINT users_pkey;
-- Also drops its identity sequence, users_id_seq.
ALTER TABLE user_metrics.users DROP COLUMN id;

-- The keys of 0.3.0.
ALTER TABLE user_metrics.users ADD CONSTRAINT users_pkey PRIMARY KEY (user_key);
ALTER TABLE user_metrics.sessions ADD CONSTRAINT sessions_pkey PRIMARY KEY (user_key, id);
ALTER TABLE user_metrics.sessions ADD CONSTRAINT sessions_client_session_id_key
    UNIQUE (user_key, client_session_id);
ALTER TABLE user_metrics.sessions ADD CONSTRAINT sessions_user_key_fkey
    FOREIGN KEY (user_key) REFERENCES user_metrics.users (user_key);
CREATE INDEX sessions_user_started_idx ON user_metrics.sessions (user_key, started_at);
CREATE INDEX sessions_started_idx ON user_metrics.sessions (started_at) INCLUDE (user_key);
ALTER TABLE user_metrics.events ADD CONSTRAINT events_pkey PRIMARY KEY (user_key, id);
ALTER TABLE user_metrics.events ADD CONSTRAINT events_event_id_key UNIQUE (user_key, event_id);
ALTER TABLE user_metrics.events ADD CONSTRAINT events_session_fkey
    FOREIGN KEY (user_key, session_id) REFERENCES user_metrics.sessions (user_key, id);
CREATE INDEX events_session_idx ON user_metrics.events (user_key, session_id);

COMMENT ON TABLE user_metrics.users IS 'People who reported metrics, one per e-mail in its normalized form, keyed by user_key.';
COMMENT ON TABLE user_metrics.sessions IS 'Client sessions, per user, with running totals kept by ingest_metrics.';
COMMENT ON TABLE user_metrics.events IS 'Accepted metrics events, one per report; event_id is the idempotency key, per user.';

-- session_user_conflict is no longer given (a session id sent by two users is two
-- sessions); events quarantined with it before keep it, and replay_rejected
-- stores them now. A colliding user key is the one conflict left.
ALTER TABLE user_metrics.rejected_events DROP CONSTRAINT rejected_events_error_code_check;
ALTER TABLE user_metrics.rejected_events ADD CONSTRAINT rejected_events_error_code_check
    CHECK (error_code IN ('not_an_object', 'missing_field',
                          'invalid_type', 'invalid_value', 'invalid_timestamp', 'unknown_field',
                          'user_key_collision', 'session_user_conflict'));

-- Reports return the exact sums (and get_session_details takes the e-mail): their
-- result types change.
DROP FUNCTION user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz);
DROP FUNCTION user_metrics.get_session_details(text);
DROP FUNCTION user_metrics.generate_weekly_report(timestamptz);

CREATE FUNCTION user_metrics.aggregate_user_metrics(
    email text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (email text, name text, total_talked_time numeric, session_count bigint)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'aggregate_user_metrics_wrapper';

CREATE FUNCTION user_metrics.get_session_details(session_id text, email text DEFAULT NULL)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time numeric, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS 'user_metrics-0.3.0', 'get_session_details_wrapper';

-- A NULL week_end now raises 22004 instead of returning no rows: not STRICT.
CREATE FUNCTION user_metrics.generate_weekly_report(week_end timestamptz DEFAULT now())
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time numeric,
    last_session_at timestamptz
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'generate_weekly_report_wrapper';

-- New: the weeks of a calendar, in a time zone.
CREATE FUNCTION user_metrics.generate_weekly_report(week_ending date, tz text)
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time numeric,
    last_session_at timestamptz
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'generate_local_weekly_report_wrapper';

REVOKE ALL ON FUNCTION
    user_metrics.normalize_email(text),
    user_metrics.user_key(text),
    user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz),
    user_metrics.get_session_details(text, text),
    user_metrics.generate_weekly_report(timestamptz),
    user_metrics.generate_weekly_report(date, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.normalize_email(text), user_metrics.user_key(text)
    TO user_metrics_writer, user_metrics_reader, user_metrics_admin;
GRANT EXECUTE ON FUNCTION
    user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz),
    user_metrics.get_session_details(text, text),
    user_metrics.generate_weekly_report(timestamptz),
    user_metrics.generate_weekly_report(date, text)
    TO user_metrics_reader, user_metrics_admin;

-- Exact row counts for health(), started from the rows there are now.
CREATE TABLE user_metrics.counters (
    slot     integer PRIMARY KEY,
    users    bigint NOT NULL DEFAULT 0,
    sessions bigint NOT NULL DEFAULT 0,
    events   bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    last_received_at timestamptz
) WITH (fillfactor = 50);
COMMENT ON TABLE user_metrics.counters IS 'Row counts of the other tables, one row per backend slot; health() sums them.';
INSERT INTO user_metrics.counters (slot, users, sessions, events, rejected, last_received_at)
SELECT 0,
       (SELECT count(*) FROM user_metrics.users),
       (SELECT count(*) FROM user_metrics.sessions),
       (SELECT count(*) FROM user_metrics.events),
       (SELECT count(*) FROM user_metrics.rejected_events),
       (SELECT max(received_at) FROM user_metrics.events);


-- == Erasure: forget_user ======================================================

-- One audit row per erasure, without the address (see sql/schema.sql).
CREATE TABLE user_metrics.forgotten_users (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_key     bigint NOT NULL,
    forgotten_at timestamptz NOT NULL DEFAULT now(),
    forgotten_by text NOT NULL DEFAULT session_user,
    users        bigint NOT NULL CHECK (users >= 0),
    sessions     bigint NOT NULL CHECK (sessions >= 0),
    events       bigint NOT NULL CHECK (events >= 0),
    quarantined  bigint NOT NULL CHECK (quarantined >= 0)
);
CREATE INDEX forgotten_users_key_idx ON user_metrics.forgotten_users (user_key, forgotten_at);
COMMENT ON TABLE user_metrics.forgotten_users IS 'One row per erasure by forget_user(): when, by whom, what went; no e-mail or name.';

CREATE FUNCTION user_metrics.forget_user(email text) RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'forget_user_wrapper';
REVOKE ALL ON FUNCTION user_metrics.forget_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.forget_user(text) TO user_metrics_admin;

-- == Ingestion statistics: ingest_stats ========================================

-- Statistics of ingest_metrics per UTC day, kept by each call in its own
-- transaction (a call that is rolled back counts nothing), in a row per day and
-- backend slot so that concurrent calls never wait for each other here; the view
-- ingest_stats sums them per day. rejected_by_code maps each error code to a count.
CREATE TABLE user_metrics.ingest_counters (
    day              date NOT NULL,
    slot             integer NOT NULL,
    calls            bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
    accepted         bigint NOT NULL DEFAULT 0 CHECK (accepted >= 0),
    duplicates       bigint NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
    rejected         bigint NOT NULL DEFAULT 0 CHECK (rejected >= 0),
    rejected_by_code jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(rejected_by_code) = 'object'),
    time_us_total    bigint NOT NULL DEFAULT 0 CHECK (time_us_total >= 0),
    time_us_max      bigint NOT NULL DEFAULT 0 CHECK (time_us_max >= 0),
    CONSTRAINT ingest_counters_pkey PRIMARY KEY (day, slot)
) WITH (fillfactor = 50);

-- Per UTC day: calls of ingest_metrics, events accepted, duplicates and refused
-- (in all and per code), and the time spent in the calls (in all and the
-- longest). For user_metrics_reader and user_metrics_admin.
CREATE VIEW user_metrics.ingest_stats AS
SELECT c.day,
       sum(c.calls)::bigint AS calls,
       sum(c.accepted)::bigint AS accepted,
       sum(c.duplicates)::bigint AS duplicates,
       sum(c.rejected)::bigint AS rejected,
       COALESCE((SELECT jsonb_object_agg(m.code, m.n ORDER BY m.code)
                 FROM (SELECT r.key AS code, sum(r.value::bigint) AS n
                       FROM user_metrics.ingest_counters AS d
                       CROSS JOIN LATERAL jsonb_each_text(d.rejected_by_code) AS r
                       WHERE d.day = c.day
                       GROUP BY r.key) AS m), '{}') AS rejected_by_code,
       make_interval(secs => sum(c.time_us_total) / 1000000.0) AS time_total,
       make_interval(secs => max(c.time_us_max) / 1000000.0) AS time_max
FROM user_metrics.ingest_counters AS c
GROUP BY c.day;
COMMENT ON TABLE user_metrics.ingest_counters IS 'Per UTC day and backend slot: what ingest_metrics calls did; ingest_stats sums them.';
COMMENT ON VIEW user_metrics.ingest_stats IS 'Per UTC day: ingest_metrics calls, events accepted, duplicates, refused per code, and time spent.';
GRANT SELECT ON user_metrics.ingest_stats TO user_metrics_reader, user_metrics_admin;

-- == Retention: purge ==========================================================

CREATE FUNCTION user_metrics.purge(older_than interval, max_sessions integer DEFAULT 10000)
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'purge_wrapper';
REVOKE ALL ON FUNCTION user_metrics.purge(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.purge(interval, integer) TO user_metrics_admin;

-- == Backups and replication ===================================================

-- pg_dump keeps the rows of every table and the position of every identity
-- sequence (see the end of sql/schema.sql).
SELECT pg_catalog.pg_extension_config_dump('user_metrics.users', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.sessions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.events', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.rejected_events', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.rejected_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.forgotten_users', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.forgotten_users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.ingest_counters', '');
SELECT pg_catalog.pg_extension_config_dump('user_metrics.counters', '');

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
    LANGUAGE c AS 'user_metrics-0.3.0', 'resync_sequences_wrapper';
REVOKE ALL ON FUNCTION user_metrics.resync_sequences() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.resync_sequences() TO user_metrics_admin;

-- == Scaling out with Citus ===================================================

-- Scaling out with Citus: user_metrics.distribute() splits users, sessions and
-- events by user_key across the workers of a Citus cluster, co-located, so that
-- each user's rows live together on one node. Called once, by a superuser, on the
-- coordinator; the same text is in the 0.2.0 -> 0.3.0 upgrade script.
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

-- == The library: one per version ===============================================

-- From 0.3.0 on, each version's functions name a library of their own
-- ('user_metrics-<version>', the file user_metrics-<version>.so in $libdir, as
-- cargo pgrx names it), installed beside the previous version's, so
-- that installing a new version's files changes nothing for a database until its
-- ALTER EXTENSION UPDATE. 0.2.0's functions name '$libdir/user_metrics' (its
-- library); those this script does not replace above are pointed at 0.3.0's here,
-- each recreated from its own definition with only the library changed (owner,
-- grants and membership stay). Every later upgrade script does the same for its
-- own version's library.
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
          AND p.probin <> 'user_metrics-0.3.0'
    LOOP
        EXECUTE pg_catalog.replace(pg_catalog.pg_get_functiondef(f.oid),
                                   'AS ' || pg_catalog.quote_literal(f.probin) || ', ',
                                   'AS ' || pg_catalog.quote_literal('user_metrics-0.3.0') || ', ');
    END LOOP;
    IF EXISTS (SELECT FROM pg_catalog.pg_proc AS p
               WHERE p.pronamespace = 'user_metrics'::pg_catalog.regnamespace
                 AND p.probin IS NOT NULL AND p.probin <> 'user_metrics-0.3.0') THEN
        RAISE EXCEPTION 'a function of user_metrics still names a library other than user_metrics-0.3.0';
    END IF;
END
$library$;

-- == Roles and privileges ======================================================

-- As CREATE EXTENSION does (sql/after_functions.sql, which explains each rule):
-- the roles of this database, user_metrics_* unless the database sets
-- user_metrics.role_prefix, are checked (an existing role of these names must be
-- NOLOGIN with no other attribute and no password, a member of no role, own
-- nothing, and have only members granted by a superuser) and the owner role is
-- created.
DO $roles$
DECLARE
    this_database oid := (SELECT d.oid FROM pg_catalog.pg_database AS d
                          WHERE d.datname = pg_catalog.current_database());
    prefix text := coalesce((
        SELECT pg_catalog.substr(c.setting, pg_catalog.length('user_metrics.role_prefix=') + 1)
        FROM pg_catalog.pg_db_role_setting AS s
        CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS c(setting)
        WHERE s.setdatabase = this_database AND s.setrole = 0
          AND pg_catalog.starts_with(c.setting, 'user_metrics.role_prefix=')), 'user_metrics');
    own_roles text[];
    role_name text;
    found_role pg_catalog.pg_authid;
    problems text[];
    listed text;
    refusals text[] := ARRAY[]::text[];
    with_citus boolean := pg_catalog.to_regclass('pg_catalog.pg_dist_local_group') IS NOT NULL;
BEGIN
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
        -- objects of the installations in other databases that use it.
        SELECT pg_catalog.string_agg(owned.what, ', ' ORDER BY owned.what) INTO listed
        FROM (
            SELECT pg_catalog.pg_describe_object(s.classid, s.objid, s.objsubid) AS what
            FROM pg_catalog.pg_shdepend AS s
            WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
              AND s.refobjid = found_role.oid AND s.deptype = 'o'
              AND s.dbid IN (0, this_database)
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

-- Then every object of the extension in schema user_metrics goes to the owner
-- role, so the SECURITY DEFINER functions no longer run as the superuser who
-- installed 0.2.0; with a role prefix, the rights of the default roles move to
-- the database's roles. Keep this the last statement of the script.
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
