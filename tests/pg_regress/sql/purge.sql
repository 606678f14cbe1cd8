-- purge(older_than interval, max_sessions integer DEFAULT 10000): retention. Each
-- call removes one bounded batch: the oldest sessions that started more than
-- older_than ago, with their events; the users left without a session; and the
-- quarantined events received more than older_than ago. "more" says whether to
-- call again.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events,
         user_metrics.counters;

-- Ana has an old session and a recent one; Bob only old ones.
SELECT user_metrics.ingest_metrics(jsonb_build_array(
  jsonb_build_object('event_id', 'p1', 'user', jsonb_build_object('email', 'ana@example.com'),
    'session', jsonb_build_object('id', 'ana-old', 'started_at', now() - interval '400 days'),
    'metrics', jsonb_build_object('talked_time', 10)),
  jsonb_build_object('event_id', 'p2', 'user', jsonb_build_object('email', 'ana@example.com'),
    'session', jsonb_build_object('id', 'ana-new', 'started_at', now() - interval '2 days'),
    'metrics', jsonb_build_object('talked_time', 20)),
  jsonb_build_object('event_id', 'p3', 'user', jsonb_build_object('email', 'bob@example.com'),
    'session', jsonb_build_object('id', 'bob-old-1', 'started_at', now() - interval '500 days'),
    'metrics', jsonb_build_object('talked_time', 30)),
  jsonb_build_object('event_id', 'p4', 'user', jsonb_build_object('email', 'bob@example.com'),
    'session', jsonb_build_object('id', 'bob-old-2', 'started_at', now() - interval '450 days'),
    'metrics', jsonb_build_object('talked_time', 40)),
  jsonb_build_object('event_id', 'p5', 'user', jsonb_build_object('email', 'bob@example.com'),
    'session', jsonb_build_object('id', 'bob-old-2', 'started_at', now() - interval '450 days'),
    'metrics', jsonb_build_object('talked_time', 40)),
  'a refused event'
)) - 'errors' AS ingested;

-- Keep a year: two sessions per call, oldest first.
SELECT user_metrics.purge('1 year', max_sessions => 2);
SELECT user_metrics.purge('1 year', max_sessions => 2);
SELECT u.email, s.client_session_id FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.user_key = s.user_key;

-- The quarantine goes by when each event was received (just now here). An age
-- of zero takes everything, Ana's recent session too.
SELECT user_metrics.purge('0 seconds');
SELECT count(*) AS quarantined FROM user_metrics.rejected_events;
SELECT h->'users' AS users, h->'sessions' AS sessions, h->'events' AS events, h->'rejected' AS rejected
FROM user_metrics.health() AS h;

-- A negative age, or no age, is an error.
SELECT user_metrics.purge('-1 day');
SELECT user_metrics.purge(NULL);
SELECT user_metrics.purge('1 day', 0);
