-- A batch of 1,000 events per call, for pgbench (`SCRIPT=bench/batch_per_call.sql
-- bench/compare_builds.sh BASE`): new event ids, in new sessions of
-- :per_session events each (1 unless PER_SESSION is given), each session's
-- events of one of :users users. Built in SQL with jsonb_agg, the same work for
-- every side; :function is replaced with the function's name before pgbench
-- reads the file.
\set per_session 1
\set n random(1, 1000000000)
SELECT :function((SELECT jsonb_agg(jsonb_build_object(
  'event_id', 'bb-' || :client_id || '-' || :n || '-' || i,
  'user', jsonb_build_object('email',
      'user' || (hashint4(:n + i / :per_session)::bigint & 2147483647) % :users || '@example.com'),
  'session', jsonb_build_object('id', 'bb-' || :client_id || '-' || :n || '-' || i / :per_session,
                                'started_at', '2026-11-20T10:00:00Z', 'ended_at', '2026-11-20T10:30:00Z'),
  'metrics', jsonb_build_object('talked_time', 12.5, 'microphone_used', true, 'speaker_used', false,
                                'voice_sentiment', 0.25)))
  FROM generate_series(0, 999) AS i));
