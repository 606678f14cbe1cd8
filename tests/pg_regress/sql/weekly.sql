-- generate_weekly_report(week_ending date, tz text): the seven calendar days
-- before week_ending in the time zone tz, from the first instant of the first
-- (local midnight) to the first instant of week_ending, whatever the session's
-- TimeZone. This application runs on UTC and reports the weeks of its users in
-- Berlin.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events, user_metrics.counters;

-- Berlin's clocks go back an hour early on Sunday 2026-10-25, so the week of
-- Monday 19 to Sunday 25 October is 169 hours long: from 2026-10-18 22:00 UTC
-- (midnight CEST) to 2026-10-25 23:00 UTC (midnight CET).
SELECT user_metrics.ingest_metrics('[
  {"event_id": "w1", "user": {"email": "ana@example.com", "name": "Ana"},
   "session": {"id": "monday-0030-cest", "started_at": "2026-10-18T22:30:00Z"},
   "metrics": {"talked_time": 10}},
  {"event_id": "w2", "user": {"email": "ana@example.com"},
   "session": {"id": "sunday-2330-cet", "started_at": "2026-10-25T22:30:00Z"},
   "metrics": {"talked_time": 20}},
  {"event_id": "w3", "user": {"email": "bob@example.com", "name": "Bob"},
   "session": {"id": "sunday-2330-cest", "started_at": "2026-10-18T21:30:00Z"},
   "metrics": {"talked_time": 40}},
  {"event_id": "w4", "user": {"email": "bob@example.com"},
   "session": {"id": "monday-0030-cet", "started_at": "2026-10-25T23:30:00Z"},
   "metrics": {"talked_time": 80}}
]'::jsonb)->>'accepted' AS accepted;

-- Ana's two sessions are in the week, on its first and its last local day; Bob's
-- are just outside it, on either side.
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26', 'Europe/Berlin');

-- The timestamptz form counts seven days of 24 hours back from the instant it is
-- given, in the session's TimeZone (UTC here): from Berlin's Monday midnight it
-- reaches back to 23:00 UTC on 2026-10-18 and misses Ana's first session.
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26 00:00:00+01');

-- Bob's late Sunday session belongs to the week before in Berlin. In New York
-- (UTC-4 until 1 November) the same instants fall on other local days: the week
-- ending on the same date holds Ana's last session and Bob's second.
SELECT email, session_count, total_talked_time
FROM user_metrics.generate_weekly_report('2026-10-19', 'Europe/Berlin');
SELECT email, session_count, total_talked_time
FROM user_metrics.generate_weekly_report('2026-10-26', 'America/New_York');

-- A week begins at the first instant of its first local day. In Havana the
-- clocks go back at 01:00 on Sunday 2 November 2025, to midnight: local midnight
-- happens twice, at 04:00 UTC (CDT) and 05:00 UTC (CST), and the day, with the
-- week of 2 to 8 November, begins at the first. The sessions of that first hour
-- belong to the week of 2 November, not to the week before.
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.counters;
SELECT user_metrics.ingest_metrics('[
  {"event_id": "h1", "user": {"email": "cora@example.cu"},
   "session": {"id": "saturday-2330-cdt", "started_at": "2025-11-02T03:30:00Z"}, "metrics": {"talked_time": 1}},
  {"event_id": "h2", "user": {"email": "cora@example.cu"},
   "session": {"id": "sunday-0030-cdt", "started_at": "2025-11-02T04:30:00Z"}, "metrics": {"talked_time": 2}},
  {"event_id": "h3", "user": {"email": "cora@example.cu"},
   "session": {"id": "sunday-0030-cst", "started_at": "2025-11-02T05:30:00Z"}, "metrics": {"talked_time": 4}}
]'::jsonb)->>'accepted' AS accepted;
SELECT to_char(w.week_ending, 'YYYY-MM-DD') AS week_ending, r.session_count, r.total_talked_time
FROM (VALUES (date '2025-11-02'), (date '2025-11-09')) AS w (week_ending)
CROSS JOIN LATERAL user_metrics.generate_weekly_report(w.week_ending, 'America/Havana') AS r;

-- tz is a name of the tz database, in any case, UTC among them (SELECT name FROM
-- pg_timezone_names lists them).
SELECT email, session_count FROM user_metrics.generate_weekly_report('2025-11-09', 'utc');
-- Other forms that AT TIME ZONE takes are refused: PostgreSQL reads '+03:00'
-- and 'UTC+3' as POSIX rules, three hours west of UTC, and an abbreviation
-- follows no change of the clocks.
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26', '+03:00');
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26', 'UTC+3');
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26', 'EST5EDT,M3.2.0,M11.1.0');
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26', 'CEST');

-- Every argument is required: NULL is an error, not an empty report.
SELECT * FROM user_metrics.generate_weekly_report(NULL::date, 'Europe/Berlin');
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26', NULL);
SELECT * FROM user_metrics.generate_weekly_report(NULL::timestamptz);
-- An unknown time zone is an error, and so is a week that cannot end.
SELECT * FROM user_metrics.generate_weekly_report('2026-10-26', 'Europe/Atlantis');
SELECT * FROM user_metrics.generate_weekly_report('infinity', 'Europe/Berlin');
