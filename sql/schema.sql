-- Tables of the user_metrics extension. Everything lives in schema user_metrics,
-- which CREATE EXTENSION creates (the control file fixes it; the extension is not
-- relocatable). Ingestion is the only writer; the constraints below still hold
-- whatever else writes here.

-- First of all, the schema. CREATE EXTENSION makes schema user_metrics (the
-- control file names it) only if it does not exist, and otherwise installs into
-- the one it finds. A role that may create schemas in this database (its owner,
-- or any role granted CREATE on it) could make that schema first: as its owner
-- it could then read and change every row, replace the functions' objects and
-- run code as whoever calls them. So the schema must be owned by a superuser, no
-- other role may create objects in it, and every object in it must belong to a
-- superuser or to the extension's owner role. A schema that pg_restore makes
-- before CREATE EXTENSION (pg_dump writes CREATE SCHEMA first) passes: it is
-- a superuser's and empty. ALTER EXTENSION UPDATE runs the same block first, so
-- that a schema changed since the install is not updated either. The block is
-- word for word the same in every upgrade script (the upgrade test checks it).
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

-- Then the database's encoding. Events are JSON, which is Unicode, and
-- the tables keep their names and e-mails as sent: a database of another
-- encoding would take the extension, then fail at the first character it cannot
-- hold. Refuse it now, before anything is created.
DO $encoding$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'user_metrics needs a UTF8 database, but database "%" uses %',
                pg_catalog.current_database(), pg_catalog.getdatabaseencoding()
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Create a database with ENCODING ''UTF8'' (CREATE DATABASE ... ENCODING ''UTF8'' TEMPLATE template0) and install the extension there.';
    END IF;
END
$encoding$;

-- Identifiers (e-mails, session ids, event ids) use the "C" collation: they are
-- compared byte for byte, which is what an identifier means and is much cheaper
-- in the unique indexes that every ingested event probes.
--
-- Every row of users, sessions and events carries its user's key, user_key (see
-- user_metrics.user_key: 64 bits of the SHA-256 of the normalized e-mail), and
-- every primary, unique and foreign key includes it. A session id and an event id
-- are unique per user. So each table can be split by user_key across the nodes
-- of a Citus cluster, a user's rows all on one node (user_metrics.distribute()),
-- and every statement names the users it concerns. user_key is the last column
-- of each table, where ALTER TABLE put it on installations upgraded from 0.2.0.

-- One row per person, identified by e-mail without regard to case or Unicode
-- normal form: ingest_metrics stores each e-mail in one canonical form (see
-- user_metrics.normalize_email), whose key is the primary key; the CHECK keeps
-- rows written by other means from holding ASCII capitals. Two e-mails with one
-- key (a SHA-256 prefix collision) cannot both be stored: ingest_metrics refuses
-- the second with user_key_collision.
CREATE TABLE user_metrics.users (
    email      text COLLATE "C" NOT NULL
               CHECK (length(email) BETWEEN 3 AND 254 AND email LIKE '_%@_%' AND email = lower(email)),
    name       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    user_key   bigint NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (user_key)
);

-- One row per client session of a user. The running totals are maintained by
-- ingest_metrics in the same transaction as the events they sum, so reports read
-- one row per session instead of scanning events. Sums are numeric: exact, so
-- they have the same digits whatever the order in which events arrived or are
-- stored. No index covers a running total, and pages keep free space
-- (fillfactor), so that adding to the totals is a HOT update: a new row version
-- on the same page, with no index entry to write.
CREATE TABLE user_metrics.sessions (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    client_session_id text COLLATE "C" NOT NULL CHECK (length(client_session_id) BETWEEN 1 AND 128),
    started_at        timestamptz NOT NULL,
    ended_at          timestamptz CHECK (ended_at >= started_at),
    device            jsonb CHECK (jsonb_typeof(device) = 'object'),
    event_count       bigint NOT NULL DEFAULT 0 CHECK (event_count >= 0),
    talked_time       numeric NOT NULL DEFAULT 0,
    microphone_used   boolean,
    speaker_used      boolean,
    sentiment_sum     numeric NOT NULL DEFAULT 0,
    sentiment_count   bigint NOT NULL DEFAULT 0 CHECK (sentiment_count >= 0),
    user_key          bigint NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (user_key, id),
    CONSTRAINT sessions_client_session_id_key UNIQUE (user_key, client_session_id),
    CONSTRAINT sessions_user_key_fkey FOREIGN KEY (user_key) REFERENCES user_metrics.users (user_key),
    CONSTRAINT sessions_talked_time_check CHECK (talked_time >= 0)
) WITH (fillfactor = 70);
-- Per-user reports filter one user's sessions by start time.
CREATE INDEX sessions_user_started_idx ON user_metrics.sessions (user_key, started_at);
-- Weekly and ranged reports read a time slice and group it by user.
CREATE INDEX sessions_started_idx ON user_metrics.sessions (started_at) INCLUDE (user_key);

-- One row per accepted metrics report. event_id is the client's idempotency key,
-- per user; events sent without one cannot be recognized as repeats. Numbers are
-- kept as the exact decimals that were sent (to at most 9 decimal places).
CREATE TABLE user_metrics.events (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    event_id        text COLLATE "C" CHECK (length(event_id) BETWEEN 1 AND 128),
    session_id      bigint NOT NULL,
    recorded_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    talked_time     numeric NOT NULL,
    microphone_used boolean,
    speaker_used    boolean,
    voice_sentiment numeric,
    user_key        bigint NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (user_key, id),
    CONSTRAINT events_event_id_key UNIQUE (user_key, event_id),
    CONSTRAINT events_session_fkey FOREIGN KEY (user_key, session_id)
        REFERENCES user_metrics.sessions (user_key, id),
    CONSTRAINT events_talked_time_check CHECK (talked_time >= 0 AND talked_time <= 86400),
    CONSTRAINT events_voice_sentiment_check CHECK (voice_sentiment >= -1 AND voice_sentiment <= 1)
);
CREATE INDEX events_session_idx ON user_metrics.events (user_key, session_id);

-- What names a rejected event in the quarantine: the SHA-256 of its payload's
-- text as jsonb prints it (keys sorted, one spacing), in UTF-8, so the same event
-- has the same digest whatever the client's formatting. IMMUTABLE, as a stored
-- generated column needs: convert_to is only STABLE because it looks up a
-- conversion, and from UTF8, the database's encoding (checked above), to UTF8
-- there is none.
CREATE FUNCTION user_metrics.payload_digest(payload jsonb) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO pg_catalog, pg_temp
    RETURN pg_catalog.sha256(pg_catalog.convert_to(payload::pg_catalog.text, 'UTF8'));

-- Every event ingest_metrics refused, with its payload exactly as sent, once: an
-- invalid event sent again (the same JSON, whatever its spacing and key order) is
-- the same row, which counts the arrivals (times_received) and keeps the time of
-- the first (received_at) and of the latest (last_received_at). So a client that
-- retries an invalid event for ever does not fill the quarantine.
CREATE TABLE user_metrics.rejected_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    batch_index   integer NOT NULL CHECK (batch_index >= 0),
    event_id      text,
    error_code    text NOT NULL CHECK (error_code IN ('not_an_object', 'missing_field',
                      'invalid_type', 'invalid_value', 'invalid_timestamp', 'unknown_field',
                      'user_key_collision',
                      -- Given before 0.3.0, when a session id belonged to one user only;
                      -- replay_rejected stores such events now.
                      'session_user_conflict')),
    error_message text NOT NULL,
    payload       jsonb NOT NULL,
    -- Added in 0.2.0: how often replay_rejected refused it again, and when last.
    replay_count     integer NOT NULL DEFAULT 0 CHECK (replay_count >= 0),
    last_replayed_at timestamptz,
    -- Added in 0.4.0: see user_metrics.payload_digest above.
    payload_digest   bytea GENERATED ALWAYS AS (user_metrics.payload_digest(payload)) STORED,
    times_received   bigint NOT NULL DEFAULT 1 CONSTRAINT rejected_events_times_received_check
                     CHECK (times_received >= 1),
    last_received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rejected_events_payload_key UNIQUE (payload_digest)
);
-- list_rejected_events shows the latest arrivals first; purge removes those that
-- stopped arriving long ago.
CREATE INDEX rejected_events_last_received_idx ON user_metrics.rejected_events (last_received_at);

-- One row per erasure by forget_user(), without the e-mail or the name: when, by
-- whom, and how many rows went. user_key is how ingest_metrics recognizes the
-- erased user's old events when the app sends them again (it drops them, keeps
-- them nowhere, and answers as for events sent again). It is 64 bits of an
-- unkeyed SHA-256 of the address, so whoever may read this table can test whether
-- a given address was erased: any record that recognizes an address allows that.
-- Only the owner role may read it.
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

-- Exact row counts for health(), kept by the functions that write, in the same
-- transaction as the rows they count: right on a standby, after a crash and after
-- a statistics reset, and never a count(*). Each backend adds to a row of its own
-- (its slot is its backend number, unique among running backends), so concurrent
-- writers never wait for each other here; health() sums the few rows.
-- last_received_at is the latest time a call stored events, which health()
-- reports without reading the events table (whose keys all start with user_key).
CREATE TABLE user_metrics.counters (
    slot     integer PRIMARY KEY,
    users    bigint NOT NULL DEFAULT 0,
    sessions bigint NOT NULL DEFAULT 0,
    events   bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    last_received_at timestamptz
) WITH (fillfactor = 50);

COMMENT ON TABLE user_metrics.users IS 'People who reported metrics, one per e-mail in its normalized form, keyed by user_key.';
COMMENT ON TABLE user_metrics.sessions IS 'Client sessions, per user, with running totals kept by ingest_metrics.';
COMMENT ON TABLE user_metrics.events IS 'Accepted metrics events, one per report; event_id is the idempotency key, per user.';
COMMENT ON TABLE user_metrics.rejected_events IS 'Events ingest_metrics refused, with the payload as sent and the reason.';
COMMENT ON TABLE user_metrics.forgotten_users IS 'One row per erasure by forget_user(): when, by whom, what went; no e-mail or name.';
COMMENT ON TABLE user_metrics.ingest_counters IS 'Per UTC day and backend slot: what ingest_metrics calls did; ingest_stats sums them.';
COMMENT ON VIEW user_metrics.ingest_stats IS 'Per UTC day: ingest_metrics calls, events accepted, duplicates, refused per code, and time spent.';
COMMENT ON TABLE user_metrics.counters IS 'Row counts of the other tables, one row per backend slot; health() sums them.';

-- Backups. pg_dump leaves out the rows of an extension's tables unless they are
-- marked as the extension's configuration: every table is marked, with no
-- filter, so a dump holds all its rows; so is each identity sequence, so that a
-- restore puts it back where it was instead of at 1, below the ids the restored
-- rows hold. One statement per table and per sequence: a new table gets both,
-- here and in the upgrade script (the backup test checks every table of the
-- schema).
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
