-- user_metrics 0.2.0 -> 0.3.0. Run by ALTER EXTENSION user_metrics UPDATE. Brings a
-- 0.2.0 installation, with its data, to exactly what CREATE EXTENSION makes for
-- 0.3.0 (the upgrade test compares the two catalogs). Every constraint is named and
-- every change is a statement of its own.

-- == Safety checks =============================================================

-- == Data: exact totals, one identity per person, exact counts =================

-- E-mails in their canonical form (case folding and NFC): the function that
-- ingestion, reports and this script use.
CREATE FUNCTION user_metrics.normalize_email(email text) RETURNS text
    IMMUTABLE STRICT PARALLEL SAFE
    LANGUAGE c AS 'MODULE_PATHNAME', 'normalize_email_wrapper';

-- Users that 0.2.0 split because their addresses differ only in Unicode normal
-- form or in case folding (final sigma, ß) become one: the oldest user row keeps
-- the sessions of the others and the latest name any of them had. An address
-- whose canonical form would exceed 254 characters (possible only for ß-heavy
-- addresses) keeps its 0.2.0 form.
CREATE TEMPORARY TABLE user_metrics_merge AS
SELECT u.id,
       min(u.id) OVER same AS keep_id,
       user_metrics.normalize_email(u.email) AS email
FROM user_metrics.users AS u
WHERE length(user_metrics.normalize_email(u.email)) <= 254
WINDOW same AS (PARTITION BY user_metrics.normalize_email(u.email));

UPDATE user_metrics.sessions AS s
SET user_id = m.keep_id
FROM user_metrics_merge AS m
WHERE s.user_id = m.id AND m.id <> m.keep_id;

UPDATE user_metrics.users AS u
SET name = latest.name
FROM (SELECT DISTINCT ON (m.keep_id) m.keep_id, n.name
      FROM user_metrics_merge AS m
      JOIN user_metrics.users AS n ON n.id = m.id
      WHERE n.name IS NOT NULL
      ORDER BY m.keep_id, n.id DESC) AS latest
WHERE u.id = latest.keep_id AND u.name IS DISTINCT FROM latest.name;

DELETE FROM user_metrics.users AS u
USING user_metrics_merge AS m
WHERE u.id = m.id AND m.id <> m.keep_id;

UPDATE user_metrics.users AS u
SET email = m.email
FROM user_metrics_merge AS m
WHERE u.id = m.id AND m.id = m.keep_id AND u.email <> m.email;

DROP TABLE user_metrics_merge;

-- Exact numbers. Each stored double becomes the decimal it was sent as: its
-- shortest text that reads back as the same double (extra_float_digits = 1), kept
-- to 9 decimal places like new events. Session totals are then summed again from
-- their events, exactly.
SET LOCAL extra_float_digits = 1;

ALTER TABLE user_metrics.events DROP CONSTRAINT events_talked_time_check;
ALTER TABLE user_metrics.events DROP CONSTRAINT events_voice_sentiment_check;
ALTER TABLE user_metrics.events
    ALTER COLUMN talked_time TYPE numeric USING
        CASE WHEN scale(talked_time::text::numeric) > 9
             THEN trim_scale(round(talked_time::text::numeric, 9))
             ELSE talked_time::text::numeric END,
    ALTER COLUMN voice_sentiment TYPE numeric USING
        CASE WHEN scale(voice_sentiment::text::numeric) > 9
             THEN trim_scale(round(voice_sentiment::text::numeric, 9))
             ELSE voice_sentiment::text::numeric END;
ALTER TABLE user_metrics.events ADD CONSTRAINT events_talked_time_check
    CHECK (talked_time >= 0 AND talked_time <= 86400);
ALTER TABLE user_metrics.events ADD CONSTRAINT events_voice_sentiment_check
    CHECK (voice_sentiment >= -1 AND voice_sentiment <= 1);

ALTER TABLE user_metrics.sessions DROP CONSTRAINT sessions_talked_time_check;
ALTER TABLE user_metrics.sessions ALTER COLUMN talked_time DROP DEFAULT;
ALTER TABLE user_metrics.sessions ALTER COLUMN sentiment_sum DROP DEFAULT;
ALTER TABLE user_metrics.sessions
    ALTER COLUMN talked_time TYPE numeric USING 0,
    ALTER COLUMN sentiment_sum TYPE numeric USING 0;
ALTER TABLE user_metrics.sessions ALTER COLUMN talked_time SET DEFAULT 0;
ALTER TABLE user_metrics.sessions ALTER COLUMN sentiment_sum SET DEFAULT 0;
UPDATE user_metrics.sessions AS s
SET talked_time = t.talked_time, sentiment_sum = t.sentiment_sum
FROM (SELECT e.session_id,
             sum(e.talked_time) AS talked_time,
             COALESCE(sum(e.voice_sentiment), 0) AS sentiment_sum
      FROM user_metrics.events AS e
      GROUP BY e.session_id) AS t
WHERE s.id = t.session_id;
ALTER TABLE user_metrics.sessions ADD CONSTRAINT sessions_talked_time_check
    CHECK (talked_time >= 0);

-- Reports return the exact sums: their result types change.
DROP FUNCTION user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz);
DROP FUNCTION user_metrics.get_session_details(text);
DROP FUNCTION user_metrics.generate_weekly_report(timestamptz);

CREATE FUNCTION user_metrics.aggregate_user_metrics(
    email text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (email text, name text, total_talked_time numeric, session_count bigint)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'aggregate_user_metrics_wrapper';

CREATE FUNCTION user_metrics.get_session_details(session_id text)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time numeric, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS 'MODULE_PATHNAME', 'get_session_details_wrapper';

CREATE FUNCTION user_metrics.generate_weekly_report(week_end timestamptz DEFAULT now())
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time numeric,
    last_session_at timestamptz
)
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'generate_weekly_report_wrapper';

REVOKE ALL ON FUNCTION
    user_metrics.normalize_email(text),
    user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz),
    user_metrics.get_session_details(text),
    user_metrics.generate_weekly_report(timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.normalize_email(text)
    TO user_metrics_writer, user_metrics_reader, user_metrics_admin;
GRANT EXECUTE ON FUNCTION
    user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz),
    user_metrics.get_session_details(text),
    user_metrics.generate_weekly_report(timestamptz)
    TO user_metrics_reader, user_metrics_admin;

-- Exact row counts for health(), started from the rows there are now.
CREATE TABLE user_metrics.counters (
    slot     integer PRIMARY KEY,
    users    bigint NOT NULL DEFAULT 0,
    sessions bigint NOT NULL DEFAULT 0,
    events   bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 50);
COMMENT ON TABLE user_metrics.counters IS 'Row counts of the other tables, one row per backend slot; health() sums them.';
INSERT INTO user_metrics.counters (slot, users, sessions, events, rejected)
SELECT 0,
       (SELECT count(*) FROM user_metrics.users),
       (SELECT count(*) FROM user_metrics.sessions),
       (SELECT count(*) FROM user_metrics.events),
       (SELECT count(*) FROM user_metrics.rejected_events);

COMMENT ON TABLE user_metrics.users IS 'People who reported metrics, one per e-mail in its normalized form.';

-- == Backups and replication ===================================================

-- == Roles and privileges ======================================================
