-- forget_user(email): the right to erasure. It removes the user, their sessions
-- and events, and every quarantined event that mentions the address in any form;
-- keeps one audit row without the address; and from then on refuses, without
-- keeping them, the user's events of sessions that started before.
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

-- Every quarantined copy goes, in whatever form a person would recognise the
-- address: padded with spaces (refused for that very reason, and quoted by the
-- message), behind a scheme, in another case or Unicode normal form, inside a
-- longer string, as a key, at any depth. A longer address that holds it is
-- someone else's, and stays.
SELECT user_metrics.ingest_metrics('[
  {"event_id": "c-padded", "user": {"email": " Chloé@Example.com "},
   "session": {"id": "c1", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 1}},
  {"event_id": "c-scheme", "user": {"email": "mailto:CHLOE\u0301@example.com"},
   "session": {"id": "c2", "started_at": "2026-11-16T09:00:00Z"}, "metrics": {"talked_time": 1}},
  {"event_id": "c-inside", "note": "from Chloé Lima <chloé@example.com>, by phone"},
  {"event_id": "c-key", "session": {"device": {"chloé@example.com": "owner"}}},
  {"event_id": "c-deep", "extra": [[[{"k": ["CC: chloé@example.com"]}]]]},
  {"event_id": "k-longer", "note": "khloé@example.com"},
  {"event_id": "k-domain", "note": "chloé@example.com.br"}
]'::jsonb) - 'errors' AS summary;
SELECT event_id, error_code, error_message FROM user_metrics.rejected_events
WHERE event_id LIKE 'c-%' OR event_id LIKE 'k-%' ORDER BY event_id;
SELECT r - 'forgotten_at' - 'user_key' AS removed FROM user_metrics.forget_user('Chloé@example.com') AS r;
SELECT event_id FROM user_metrics.rejected_events
WHERE event_id LIKE 'c-%' OR event_id LIKE 'k-%' ORDER BY event_id;

-- An address nobody has is searched for and recorded all the same.
SELECT r - 'forgotten_at' - 'user_key' FROM user_metrics.forget_user('nobody@example.com') AS r;
-- NULL is an error, and so is text that cannot be an address: it would only
-- match fragments of other people's text.
SELECT user_metrics.forget_user(NULL);
SELECT user_metrics.forget_user('ana');
