-- One event per call, for pgbench (bench/run.py, part "pgbench"): the events of
-- seed_per_event.sql, sent to an ingest_metrics function (:function is replaced
-- with the function's name before pgbench reads the file). Run with -M prepared
-- and -D users=N. (Built with jsonb_build_object: pgbench would read ":00" in a
-- JSON text as a variable.)
\set u random(0, :users - 1)
\set k random(0, 3)
\set n random(1, 2000000000)
SELECT :function(jsonb_build_object(
  'event_id', 'pb-' || :client_id || '-' || :n,
  'user', jsonb_build_object('email', 'user' || :u || '@example.com'),
  'session', jsonb_build_object('id', 'pb-' || :u || '-' || :k, 'started_at', '2026-11-20T10:00:00Z',
                                'ended_at', '2026-11-20T10:30:00Z'),
  'metrics', jsonb_build_object('talked_time', 12.5, 'microphone_used', true, 'speaker_used', false,
                                'voice_sentiment', 0.25)));
