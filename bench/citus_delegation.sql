-- The delegation experiment of the Citus comparison (bench/run.py, part "citus"):
-- what a call would save if Citus ran it on the worker that holds its user
-- (create_distributed_function, colocated with users, distributed by the user
-- key) instead of on the coordinator: the three statements that store one event
-- (the user, the session with its running totals, the event). bench/run.py
-- creates this function twice on the coordinator, after user_metrics.distribute():
-- as one_event, which runs there, each statement a round trip to the worker, and
-- as one_event_delegated, distributed by its first argument, so that Citus sends
-- the whole call to that worker.
CREATE SCHEMA IF NOT EXISTS bench_delegation;

CREATE OR REPLACE FUNCTION bench_delegation.one_event(key bigint, address text, client_session text,
                                                      id text, talked numeric)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    session bigint;
BEGIN
    INSERT INTO user_metrics.users (user_key, email) VALUES (key, address)
    ON CONFLICT (user_key) DO NOTHING;
    INSERT INTO user_metrics.sessions AS s (user_key, client_session_id, started_at, event_count, talked_time)
    VALUES (key, client_session, '2026-11-20T10:00:00Z', 1, talked)
    ON CONFLICT (user_key, client_session_id) DO UPDATE
        SET event_count = s.event_count + 1, talked_time = s.talked_time + excluded.talked_time
    RETURNING s.id INTO session;
    INSERT INTO user_metrics.events (user_key, event_id, session_id, recorded_at, talked_time)
    VALUES (key, id, session, now(), talked)
    ON CONFLICT (user_key, event_id) DO NOTHING;
    RETURN true;
END
$$;
