-- scripts/bench_http.sh: events of the shape bench/http_events.lua sends, one
-- per call, to ingest_metrics over SQL by pgbench, without HTTP: what PostgreSQL
-- alone takes for them, beside the two servers' figures. (Built with
-- jsonb_build_object: pgbench would read ":00" in a JSON text as a variable.)
\set n random(1, 1000000000)
\set session random(0, 39999)
\set user :session % 10000
\set day 1 + :session % 28
\set hour :session % 24
\set talked :n % 600
SELECT user_metrics.ingest_metrics(jsonb_build_object(
    'event_id', 'sql-' || :n::text,
    'user', jsonb_build_object('email', 'user' || :user::text || '@example.com', 'name', 'User ' || :user::text),
    'session', jsonb_build_object(
        'id', 's-' || :session::text,
        'started_at', make_timestamptz(2026, 11, :day::int, :hour::int, 0, 0, 'UTC'),
        'device', jsonb_build_object('type', 'phone', 'os', 'Android 15', 'app_version', '3.4.1')),
    'metrics', jsonb_build_object('talked_time', :talked::int + 0.5, 'microphone_used', true,
                                  'speaker_used', false, 'voice_sentiment', 0.3)));
