-- Which form of the user key keeps the tables smaller: the e-mail itself (text) or
-- a 64-bit hash of it (bigint)? Two copies of the three keyed tables, alike but
-- for the key, filled with the same 50,000 users, 200,000 sessions and 2 million
-- events (e-mails of about 35 characters, UUID session and event ids), then their
-- table and index sizes side by side. Run in an empty scratch database:
--   createdb key_form && psql -d key_form -f bench/key_form.sql
\timing on
CREATE FUNCTION hash_key(email text) RETURNS bigint IMMUTABLE LANGUAGE sql
    AS $$ SELECT ('x' || left(encode(sha256(convert_to(email, 'UTF8')), 'hex'), 16))::bit(64)::bigint $$;

CREATE TABLE text_users (email text COLLATE "C" PRIMARY KEY, name text);
CREATE TABLE text_sessions (
    email text COLLATE "C" NOT NULL REFERENCES text_users,
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_session_id text COLLATE "C" NOT NULL,
    started_at timestamptz NOT NULL,
    talked_time numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (email, id), UNIQUE (email, client_session_id));
CREATE TABLE text_events (
    email text COLLATE "C" NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    event_id text COLLATE "C",
    session_id bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    talked_time numeric NOT NULL,
    voice_sentiment numeric,
    PRIMARY KEY (email, id), UNIQUE (email, event_id),
    FOREIGN KEY (email, session_id) REFERENCES text_sessions (email, id));
CREATE INDEX ON text_events (email, session_id);

CREATE TABLE hash_users (user_key bigint PRIMARY KEY, email text COLLATE "C" NOT NULL, name text);
CREATE TABLE hash_sessions (
    user_key bigint NOT NULL REFERENCES hash_users,
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_session_id text COLLATE "C" NOT NULL,
    started_at timestamptz NOT NULL,
    talked_time numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (user_key, id), UNIQUE (user_key, client_session_id));
CREATE TABLE hash_events (
    user_key bigint NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    event_id text COLLATE "C",
    session_id bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    talked_time numeric NOT NULL,
    voice_sentiment numeric,
    PRIMARY KEY (user_key, id), UNIQUE (user_key, event_id),
    FOREIGN KEY (user_key, session_id) REFERENCES hash_sessions (user_key, id));
CREATE INDEX ON hash_events (user_key, session_id);

INSERT INTO text_users
SELECT 'firstname.lastname' || g || '@example.com', 'Name ' || g FROM generate_series(1, 50000) AS g;
INSERT INTO hash_users SELECT hash_key(email), email, name FROM text_users;
INSERT INTO text_sessions (email, client_session_id, started_at)
SELECT 'firstname.lastname' || (g % 50000 + 1) || '@example.com', gen_random_uuid()::text,
       now() - g * interval '1 minute'
FROM generate_series(1, 200000) AS g;
INSERT INTO hash_sessions (user_key, client_session_id, started_at)
SELECT hash_key(email), client_session_id, started_at FROM text_sessions ORDER BY id;
INSERT INTO text_events (email, event_id, session_id, recorded_at, talked_time, voice_sentiment)
SELECT s.email, gen_random_uuid()::text, s.id, s.started_at, 12.5, 0.25
FROM text_sessions AS s, generate_series(1, 10);
INSERT INTO hash_events (user_key, event_id, session_id, recorded_at, talked_time, voice_sentiment)
SELECT s.user_key, gen_random_uuid()::text, s.id, s.started_at, 12.5, 0.25
FROM hash_sessions AS s, generate_series(1, 10);
VACUUM ANALYZE;

SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) AS size
FROM pg_class AS c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')
ORDER BY c.relname;
SELECT 'e-mail text key' AS key_form,
       pg_size_pretty(pg_total_relation_size('text_users') + pg_total_relation_size('text_sessions')
                      + pg_total_relation_size('text_events')) AS tables_and_indexes
UNION ALL
SELECT '64-bit hash key',
       pg_size_pretty(pg_total_relation_size('hash_users') + pg_total_relation_size('hash_sessions')
                      + pg_total_relation_size('hash_events'));
