-- What user_metrics relies on from PostgreSQL itself. The test command runs this
-- suite on every PostgreSQL version it supports, so a version that behaves
-- differently fails here, by name.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events, user_metrics.counters;

-- 1. ingest_metrics reads its argument as the text jsonb_out prints
-- (src/api/jsonb_text.rs), and the contract measures and quotes that text: keys
-- shorter first then byte order, the last of duplicate keys, one space after ':'
-- and ',', numbers as numeric prints them, strings escaped only where JSON must.
SELECT jsonb_out('{"b":[1,2,{"c":null}],"a":"x\u0001\n\"\\/é\u00e9","aa":1.50,"n":1e2,"n":-0.0,"t":true,"big":1.0E+5,"o":{},"l":[]}'::jsonb) AS jsonb_out;

-- So the device limit (4096 bytes) counts the spaces jsonb_out adds: sent compact,
-- {"x":"a…a"} with 4087 a's is 4095 bytes and 4096 once printed, the most allowed;
-- with 4088 a's it is 4096 bytes as sent but 4097 printed, one too many.
SELECT a AS a_count,
       octet_length(jsonb_build_object('x', repeat('a', a))::text) AS printed_bytes,
       s->>'accepted' AS accepted,
       s->'errors'->0->>'message' AS message
FROM unnest(ARRAY[4087, 4088]) AS a,
     user_metrics.ingest_metrics(jsonb_build_object(
         'event_id', 'device-' || a,
         'user', jsonb_build_object('email', 'dev@example.com'),
         'session', jsonb_build_object('id', 's-device-' || a, 'started_at', '2026-11-23T09:00:00Z',
                                       'device', jsonb_build_object('x', repeat('a', a))),
         'metrics', jsonb_build_object('talked_time', 1))) AS s
ORDER BY a;

-- And numbers are quoted as numeric prints them, not as they were sent.
SELECT user_metrics.ingest_metrics('{"user": {"email": "n@example.com"},
  "session": {"id": "s-number", "started_at": "2026-11-23T09:00:00Z"},
  "metrics": {"talked_time": 1.0E+5}}')->'errors'->0->>'message' AS message;

-- 2. The users table's CHECK (email = lower(email)) uses lower() under the "C"
-- collation, which changes ASCII letters only; ingest_metrics lower-cases with
-- Unicode's rules, so what it stores always passes.
SELECT lower('ΟΔΟΣ-Ÿ@EXAMPLE.COM' COLLATE "C") AS lower_c;
SELECT user_metrics.ingest_metrics('{"event_id": "greek", "user": {"email": "ΟΔΟΣ@Example.COM"},
  "session": {"id": "s-greek", "started_at": "2026-11-23T09:00:00Z"},
  "metrics": {"talked_time": 2}}')->>'accepted' AS accepted;
SELECT email FROM user_metrics.users WHERE email LIKE '%@example.com' AND email <> 'dev@example.com';

-- 3. health() counts exactly, from the counters the writing functions keep, on
-- every version (the statistics system, which it used to read, lags and resets).
SELECT h->'users' AS users, h->'sessions' AS sessions, h->'events' AS events, h->'rejected' AS rejected
FROM user_metrics.health() AS h;
SELECT (SELECT count(*) FROM user_metrics.users) AS users,
       (SELECT count(*) FROM user_metrics.sessions) AS sessions,
       (SELECT count(*) FROM user_metrics.events) AS events,
       (SELECT count(*) FROM user_metrics.rejected_events) AS rejected;
