-- The seed pipeline's tables, as the Flask reference writes them: one row per
-- user, session and event, with the seed's unique keys.
DROP SCHEMA IF EXISTS flask_ref CASCADE;
CREATE SCHEMA flask_ref;
CREATE TABLE flask_ref.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text
);
CREATE TABLE flask_ref.sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_session_id text NOT NULL UNIQUE,
    user_id bigint NOT NULL REFERENCES flask_ref.users,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    device jsonb
);
CREATE TABLE flask_ref.events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text UNIQUE,
    session_id bigint NOT NULL REFERENCES flask_ref.sessions,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    talked_time double precision NOT NULL,
    microphone_used boolean,
    speaker_used boolean,
    voice_sentiment double precision
);
CREATE INDEX ON flask_ref.events (session_id);
