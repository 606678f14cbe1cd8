-- The seed's per-event SQL, for pgbench (bench/run.py, part "pgbench"): one event
-- per transaction, the three statements of bench/flask_reference/app.py (upsert
-- the user, upsert the session, insert the event) into the seed's own tables
-- (bench/flask_reference/schema.sql). Run with -M prepared, so each statement is
-- parsed and planned once per connection, and -D users=N. The events are those
-- of one_event_per_call.sql: the same users, sessions and values.
\set u random(0, :users - 1)
\set k random(0, 3)
\set n random(1, 2000000000)
BEGIN;
INSERT INTO flask_ref.users (email, name) VALUES (lower('user' || :u || '@example.com'), NULL)
    ON CONFLICT (email) DO UPDATE SET name = coalesce(excluded.name, flask_ref.users.name)
    RETURNING id AS user_id \gset
INSERT INTO flask_ref.sessions (client_session_id, user_id, started_at, ended_at, device)
    VALUES ('pb-' || :u || '-' || :k, :user_id, '2026-11-20T10:00:00Z', '2026-11-20T10:30:00Z', NULL)
    ON CONFLICT (client_session_id) DO UPDATE SET ended_at = greatest(flask_ref.sessions.ended_at, excluded.ended_at)
    RETURNING id AS session_key \gset
INSERT INTO flask_ref.events (event_id, session_id, recorded_at, talked_time, microphone_used, speaker_used,
                              voice_sentiment)
    VALUES ('pb-' || :client_id || '-' || :n, :session_key, now(), 12.5, true, false, 0.25)
    ON CONFLICT (event_id) DO NOTHING;
END;
