-- What an e-mail address is: local-part@domain by the mailbox syntax of RFC 5321
-- and RFC 5322, with the Unicode of RFC 6531. The local part is a dot-atom
-- (letters, digits, !#$%&'*+-/=?^_`{|}~ and any character beyond ASCII, in runs
-- separated by single dots), the domain labels of letters, digits, inner hyphens
-- and characters beyond ASCII. No scheme, display name, comment, quotes, address
-- literal or whitespace. The rule applies to the address once case-folded and
-- normalized, as it is stored.
SET TimeZone = 'UTC';
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events,
         user_metrics.counters, user_metrics.forgotten_users;

SELECT a.address, coalesce(e->>'message', 'accepted') AS verdict
FROM (VALUES ('Zoë.Lima+metrics@Example.com'), ('o''neil@example.ie'), ('用户@例子.广告'),
             ('mailto:ana@example.com'), ('Ana Lima <ana@example.com>'), (' ana@example.com'),
             ('"ana"@example.com'), ('ana@[192.0.2.1]'), ('ana.@example.com'),
             ('ana@example..com'), ('ana@-example.com'), ('ana@example.com (home)'))
     AS a (address)
CROSS JOIN LATERAL user_metrics.ingest_metrics(jsonb_build_object(
    'user', jsonb_build_object('email', a.address),
    'session', jsonb_build_object('id', 's-' || a.address, 'started_at', '2026-11-23T09:00:00Z'),
    'metrics', jsonb_build_object('talked_time', 1))) AS r
LEFT JOIN LATERAL jsonb_array_elements(r->'errors') AS e ON true;

-- Until 0.4.0 an address only needed one @ with text on both sides, so a
-- database may hold users whose address the rule now refuses. They stay, as
-- 0.3.0's ingest_metrics stored them (written here directly):
TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events,
         user_metrics.counters;
INSERT INTO user_metrics.users (user_key, email, name)
VALUES (user_metrics.user_key('mailto:ana@example.com'), 'mailto:ana@example.com', 'Ana (0.3.0)');
INSERT INTO user_metrics.sessions (user_key, client_session_id, started_at, event_count, talked_time,
                                   sentiment_sum, sentiment_count)
VALUES (user_metrics.user_key('mailto:ana@example.com'), 's-old', '2026-11-16T09:00:00Z', 1, 42, 0, 0);
INSERT INTO user_metrics.counters (slot, users, sessions) VALUES (0, 1, 1);

-- The reports reach them by the address as stored, in any case.
SELECT * FROM user_metrics.aggregate_user_metrics('MAILTO:Ana@Example.com');
SELECT email, session_count, total_talked_time
FROM user_metrics.generate_weekly_report('2026-11-23', 'UTC');

-- New events under that address are refused, and quarantined.
SELECT e->>'message' AS refused
FROM jsonb_array_elements(user_metrics.ingest_metrics('{"user": {"email": "mailto:ana@example.com"},
   "session": {"id": "s-new", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": 1}}')->'errors') AS e;

-- The app sends the address itself from now on: a user of its own.
SELECT user_metrics.ingest_metrics('{"user": {"email": "ana@example.com", "name": "Ana"},
   "session": {"id": "s-new", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": 1}}')->'accepted' AS accepted;
SELECT email, name FROM user_metrics.users ORDER BY email;

-- Erasing the address erases the old form of it too, and the quarantined event.
SELECT r - 'forgotten_at' - 'user_key' AS removed FROM user_metrics.forget_user('ana@example.com') AS r;
SELECT count(*) AS users FROM user_metrics.users;
SELECT count(*) AS quarantined FROM user_metrics.rejected_events;
