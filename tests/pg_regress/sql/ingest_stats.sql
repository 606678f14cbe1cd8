-- The view ingest_stats: per UTC day, what the calls of ingest_metrics did and
-- how long they took. Kept by each call in its own transaction.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events,
         user_metrics.counters, user_metrics.ingest_counters;

-- Three calls: one stores two events, one repeats one of them and sends a bad
-- one, one is refused as a whole in raise mode.
SELECT user_metrics.ingest_metrics('[
  {"event_id": "st1", "user": {"email": "ana@example.com"},
   "session": {"id": "s-1", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 10}},
  {"event_id": "st2", "user": {"email": "ana@example.com"},
   "session": {"id": "s-1", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 5}}
]') - 'errors' AS first;
SELECT user_metrics.ingest_metrics('[
  {"event_id": "st2", "user": {"email": "ana@example.com"},
   "session": {"id": "s-1", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 5}},
  {"event_id": "st3", "user": {"email": "ana@example.com"},
   "session": {"id": "s-1", "started_at": "2026-11-16T09:00:00"}, "metrics": {"talk_time": 5}},
  42
]') - 'errors' AS second;
SELECT user_metrics.ingest_metrics('[42]', on_error => 'raise');

-- A call in a transaction that is rolled back counts nothing either.
BEGIN;
SELECT user_metrics.ingest_metrics('{"event_id": "st9", "user": {"email": "bo@example.com"},
   "session": {"id": "s-9", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 1}}') - 'errors' AS rolled_back;
ROLLBACK;

-- Today: two calls. Each refused event is counted under its code.
SELECT day = (now() AT TIME ZONE 'UTC')::date AS today, calls, accepted, duplicates, rejected,
       rejected_by_code, time_total > interval '0' AS timed, time_max <= time_total AS max_within_total
FROM user_metrics.ingest_stats;
