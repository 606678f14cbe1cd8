-- ingest_metrics: what a psql user sees.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events, user_metrics.counters;

-- One event, as documented in the README.
SELECT user_metrics.ingest_metrics('{
  "event_id": "c0a8-0001",
  "recorded_at": "2026-11-23T09:15:00Z",
  "user":    { "email": "Ana@Example.com", "name": "Ana Lima" },
  "session": { "id": "s-1001",
               "started_at": "2026-11-23T09:00:00Z",
               "ended_at":   "2026-11-23T10:40:00+01:00",
               "device": { "id": "mbp-7", "type": "desktop", "os": "macOS 15.1", "app_version": "3.4.0" } },
  "metrics": { "talked_time": 312.5, "microphone_used": true, "speaker_used": false, "voice_sentiment": 0.42 }
}');

-- Sending it again changes nothing: it is a duplicate.
SELECT user_metrics.ingest_metrics('{
  "event_id": "c0a8-0001",
  "user": { "email": "ana@example.com" },
  "session": { "id": "s-1001", "started_at": "2026-11-23T09:00:00Z" },
  "metrics": { "talked_time": 312.5 }
}');

-- A batch: two valid events, a repeat, one bad event of each kind, and an event of
-- another user naming the same session id as Ana: a session of her own.
SELECT jsonb_pretty(user_metrics.ingest_metrics('[
  {"event_id": "e-2", "user": {"email": "ana@example.com"},
   "session": {"id": "s-1001", "started_at": "2026-11-23T08:55:00Z", "ended_at": "2026-11-23T09:45:00Z"},
   "metrics": {"talked_time": 60, "microphone_used": false, "voice_sentiment": -0.2}},
  {"event_id": "e-3", "user": {"email": "bob@example.com", "name": "Bob"},
   "session": {"id": "s-2001", "started_at": 1795424400},
   "metrics": {"talked_time": 30.25}},
  {"event_id": "e-3", "user": {"email": "bob@example.com"},
   "session": {"id": "s-2001", "started_at": 1795424400},
   "metrics": {"talked_time": 30.25}},
  "not an event",
  {"event_id": "bad-missing", "user": {"email": "bob@example.com"}, "session": {"id": "s-2001"},
   "metrics": {"talked_time": 1}},
  {"event_id": "bad-type", "user": {"email": "bob@example.com"},
   "session": {"id": "s-2001", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": "10"}},
  {"event_id": "bad-value", "user": {"email": "bob@example.com"},
   "session": {"id": "s-2001", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": -5}},
  {"event_id": "bad-time", "user": {"email": "bob@example.com"},
   "session": {"id": "s-2001", "started_at": "2026-11-23T09:00:00"}, "metrics": {"talked_time": 1}},
  {"event_id": "bad-key", "user": {"email": "bob@example.com"},
   "session": {"id": "s-2001", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talk_time": 1}},
  {"event_id": "e-eve", "user": {"email": "eve@example.com"},
   "session": {"id": "s-1001", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": 1}}
]'));

-- What was stored.
SELECT email, name FROM user_metrics.users ORDER BY email;
SELECT client_session_id, started_at, ended_at, event_count, talked_time,
       microphone_used, speaker_used, device
FROM user_metrics.sessions ORDER BY client_session_id, started_at;
SELECT event_id, talked_time FROM user_metrics.events ORDER BY event_id;

-- What was refused, with the payload as sent.
SELECT batch_index, event_id, error_code, payload
FROM user_metrics.rejected_events ORDER BY batch_index;

-- The quarantine as an operator reads it (user_metrics_admin may call this).
SELECT batch_index, event_id, error_code, error_message
FROM user_metrics.list_rejected_events(max_rows => 3);
SELECT count(*) FROM user_metrics.list_rejected_events(since => now() + interval '1 minute');
SELECT * FROM user_metrics.list_rejected_events(max_rows => -1);

-- An invalid event sent again, however it is spaced and its keys ordered, is the
-- same row of the quarantine: it counts the arrivals and keeps the first one's
-- time. The call still reports it as rejected; health() counts the rows.
SELECT user_metrics.ingest_metrics('[
  {"metrics": {"talk_time": 1}, "event_id": "bad-key",
   "session": {"started_at": "2026-11-23T09:00:00Z", "id": "s-2001"}, "user": {"email": "bob@example.com"}},
  {"event_id": "bad-key", "user": {"email": "bob@example.com"},
   "session": {"id": "s-2001", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talk_time": 1}}
]')->>'rejected' AS rejected;
SELECT event_id, times_received, last_received_at > received_at AS arrived_again
FROM user_metrics.list_rejected_events() ORDER BY event_id;
SELECT (user_metrics.health()->>'rejected')::int AS quarantined,
       (SELECT count(*) FROM user_metrics.rejected_events) AS rows;

-- on_error => 'raise': the first bad event aborts the call and nothing is stored.
-- The message names the field and the code; the DETAIL, which the server log does
-- not get, says what is wrong with the value.
\set VERBOSITY default
SELECT user_metrics.ingest_metrics('[
  {"event_id": "r-1", "user": {"email": "cid@example.com"},
   "session": {"id": "s-3001", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": 1}},
  {"event_id": "r-2", "user": {"email": "cid@example.com"},
   "session": {"id": "s-3001", "started_at": "2026-11-23T09:00:00Z", "ended_at": "2026-11-23T08:00:00Z"},
   "metrics": {"talked_time": 1}}
]', on_error => 'raise');
\set VERBOSITY terse
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS cid_users FROM user_metrics.users WHERE email = 'cid@example.com';

-- Arguments that are not a batch at all.
SELECT user_metrics.ingest_metrics(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT user_metrics.ingest_metrics('"just a string"');
\echo :LAST_ERROR_SQLSTATE
SELECT user_metrics.ingest_metrics('[]', on_error => 'skip');
\echo :LAST_ERROR_SQLSTATE
SELECT user_metrics.ingest_metrics('[]');
