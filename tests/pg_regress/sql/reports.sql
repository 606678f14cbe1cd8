-- The reports: what a psql user sees.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events, user_metrics.counters;

SELECT user_metrics.ingest_metrics('[
  {"event_id": "a1", "user": {"email": "ana@example.com", "name": "Ana Lima"},
   "session": {"id": "s-a1", "started_at": "2026-11-16T09:00:00Z", "ended_at": "2026-11-16T09:30:00Z",
               "device": {"id": "mbp-7", "type": "desktop", "os": "macOS 15.1"}},
   "metrics": {"talked_time": 100, "microphone_used": true, "voice_sentiment": 0.5}},
  {"event_id": "a2", "user": {"email": "ana@example.com"},
   "session": {"id": "s-a1", "started_at": "2026-11-16T09:00:00Z"},
   "metrics": {"talked_time": 50.5, "speaker_used": false, "voice_sentiment": -0.25}},
  {"event_id": "a3", "user": {"email": "ANA@example.com"},
   "session": {"id": "s-a2", "started_at": "2026-11-20T10:00:00Z"}, "metrics": {"talked_time": 200}},
  {"event_id": "b1", "user": {"email": "bob@example.com", "name": "Bob"},
   "session": {"id": "s-b1", "started_at": "2026-11-18T12:00:00Z"}, "metrics": {"talked_time": 300}},
  {"event_id": "b2", "user": {"email": "bob@example.com"},
   "session": {"id": "s-b2", "started_at": "2026-11-08T08:00:00Z"}, "metrics": {"talked_time": 1000}},
  {"event_id": "c1", "user": {"email": "cid@example.com"},
   "session": {"id": "s-c1", "started_at": "2026-11-23T00:00:00Z"}, "metrics": {"talked_time": 42}}
]')->'accepted' AS accepted;

-- Per-user totals, over everything, over a range, and for one user (any case).
SELECT * FROM user_metrics.aggregate_user_metrics();
SELECT * FROM user_metrics.aggregate_user_metrics(since => '2026-11-16', until => '2026-11-23');
SELECT * FROM user_metrics.aggregate_user_metrics('BOB@EXAMPLE.COM');
SELECT * FROM user_metrics.aggregate_user_metrics('nobody@example.com');

-- One session in detail; an unknown session gives no row.
\x on
SELECT * FROM user_metrics.get_session_details('s-a1');
\x off
SELECT * FROM user_metrics.get_session_details('no-such-session');

-- The week before 2026-11-23 00:00 UTC: s-c1 starts exactly at the end, so it is out.
SELECT * FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z');
SELECT * FROM user_metrics.generate_weekly_report('2026-11-30T00:00:00Z');

-- Activity per calendar day in a time zone, every day of the range listed (the
-- 16th and the 20th are Monday and Friday); then per week, from Monday.
SELECT * FROM user_metrics.generate_activity_report('2026-11-15', '2026-11-21', 'Europe/Berlin');
SELECT * FROM user_metrics.generate_activity_report('2026-11-02', '2026-11-29', 'UTC', 'week');
SELECT * FROM user_metrics.generate_activity_report('2026-11-21', '2026-11-15', 'UTC');

-- One user's sessions, by start, in the columns of get_session_details.
SELECT session_id, started_at, talked_time, event_count
FROM user_metrics.get_user_sessions('ANA@example.com');
SELECT session_id FROM user_metrics.get_user_sessions('bob@example.com', since => '2026-11-10');
