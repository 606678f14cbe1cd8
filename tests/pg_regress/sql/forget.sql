-- forget_user(email): the right to erasure. It removes the user, their sessions
-- and events, and every quarantined event whose payload holds the address in any
-- form; keeps one audit row without the address; and from then on refuses,
-- without keeping them, the user's events of sessions that started before.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events,
         user_metrics.counters, user_metrics.forgotten_users;

SELECT user_metrics.ingest_metrics('[
  {"event_id": "z1", "user": {"email": "zoe@example.com", "name": "Zoë Lima"},
   "session": {"id": "s-z1", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 100}},
  {"event_id": "z2", "user": {"email": "zoe@example.com"},
   "session": {"id": "s-z2", "started_at": "2026-11-17T09:00:00Z"}, "metrics": {"talked_time": 50}},
  {"event_id": "z-bad", "user": {"email": "ZOE@Example.com"},
   "session": {"id": "s-z3", "started_at": "2026-11-18T09:00:00"}, "metrics": {"talked_time": 5}},
  {"event_id": "a1", "user": {"email": "ana@example.com", "name": "Ana"},
   "session": {"id": "s-a1", "started_at": "2026-11-16T10:00:00Z"}, "metrics": {"talked_time": 70}},
  {"event_id": "a-bad", "user": {"email": "ana@example.com"},
   "session": {"id": "s-a2", "started_at": "2026-11-16T10:00:00Z"}, "metrics": {"talk_time": 1}},
  "zoe@example.com"
]'::jsonb) - 'errors' AS summary;

-- The address in any case; the result says what went. Two quarantined events
-- held it: the one with a bad timestamp, and the bare string sent as an event.
SELECT r - 'forgotten_at' - 'user_key' AS removed,
       (r->>'user_key')::bigint = user_metrics.user_key('zoe@example.com') AS keyed
FROM user_metrics.forget_user('Zoe@EXAMPLE.com') AS r;

-- Nothing of Zoë is left; Ana is untouched, and so is her quarantined event.
SELECT email, name FROM user_metrics.users;
SELECT client_session_id FROM user_metrics.sessions;
SELECT event_id, error_code FROM user_metrics.rejected_events;
SELECT h->'users' AS users, h->'sessions' AS sessions, h->'events' AS events, h->'rejected' AS rejected
FROM user_metrics.health() AS h;

-- The audit row: who, when, how many; no address, no name.
SELECT forgotten_by, users, sessions, events, quarantined,
       user_key = user_metrics.user_key('zoe@example.com') AS keyed
FROM user_metrics.forgotten_users;

-- The app sends her old events again: dropped, kept nowhere, and answered as any
-- event sent again (a duplicate with an event_id, accepted without), so that the
-- writer learns nothing of the erasure. An event of a session that starts after
-- the erasure is hers again.
SELECT jsonb_pretty(user_metrics.ingest_metrics('[
  {"event_id": "z1", "user": {"email": "zoe@example.com", "name": "Zoë Lima"},
   "session": {"id": "s-z1", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 100}},
  {"user": {"email": "zoe@example.com"},
   "session": {"id": "s-z1", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 7}},
  {"event_id": "z9", "user": {"email": "zoe@example.com"},
   "session": {"id": "s-z9", "started_at": "2999-01-01T00:00:00Z"}, "metrics": {"talked_time": 1}}
]'));
SELECT count(*) AS quarantined FROM user_metrics.rejected_events;
SELECT email, name FROM user_metrics.users ORDER BY email;
SELECT s.client_session_id, s.event_count, s.talked_time FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u USING (user_key) WHERE u.email = 'zoe@example.com';

-- With on_error => 'raise' too: nothing is raised for it, and nothing stored.
SELECT user_metrics.ingest_metrics('{"event_id": "z2", "user": {"email": "zoe@example.com"},
   "session": {"id": "s-z2", "started_at": "2026-11-17T09:00:00Z"}, "metrics": {"talked_time": 50}}',
   on_error => 'raise');
SELECT count(*) AS events_of_old_sessions FROM user_metrics.events AS e
JOIN user_metrics.sessions AS s ON s.user_key = e.user_key AND s.id = e.session_id
WHERE s.client_session_id <> 's-z9' AND e.user_key = user_metrics.user_key('zoe@example.com');

-- An address nobody has is searched for and recorded all the same.
SELECT r - 'forgotten_at' - 'user_key' FROM user_metrics.forget_user('nobody@example.com') AS r;
-- NULL is an error.
SELECT user_metrics.forget_user(NULL);
