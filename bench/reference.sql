-- The reference: the same contract as user_metrics.ingest_metrics, written the way
-- a competent DBA would write it in PL/pgSQL: set-based, over
-- jsonb_array_elements, with INSERT ... ON CONFLICT, into the same tables.
-- It enforces the rules that are practical in SQL (required fields, JSON types,
-- unknown keys, ranges, e-mail shape, timestamps with an offset, end not before
-- start, idempotent event_id per user), keeps the same running totals,
-- and quarantines refused events in the same table. It is used only by the
-- benchmark, which installs it next to the extension.

CREATE SCHEMA IF NOT EXISTS reference;

-- The first problem of one event, as (code, message), or NULL when it is valid.
CREATE OR REPLACE FUNCTION reference.problem(ev jsonb)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    v jsonb;
    ts_re constant text := '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$';
BEGIN
    IF jsonb_typeof(ev) <> 'object' THEN
        RETURN ARRAY['not_an_object', 'event: expected an object'];
    END IF;
    SELECT key INTO k FROM jsonb_object_keys(ev) AS key
     WHERE key NOT IN ('event_id', 'recorded_at', 'user', 'session', 'metrics') ORDER BY 1 LIMIT 1;
    IF k IS NOT NULL THEN RETURN ARRAY['unknown_field', k || ': unknown field']; END IF;

    v := ev->'event_id';
    IF v IS NOT NULL AND v <> 'null' THEN
        IF jsonb_typeof(v) <> 'string' THEN RETURN ARRAY['invalid_type', 'event_id: expected a string']; END IF;
        IF length(v #>> '{}') NOT BETWEEN 1 AND 128 THEN RETURN ARRAY['invalid_value', 'event_id: bad length']; END IF;
    END IF;
    v := ev->'recorded_at';
    IF v IS NOT NULL AND v <> 'null' THEN
        IF jsonb_typeof(v) = 'string' AND (v #>> '{}') !~ ts_re THEN
            RETURN ARRAY['invalid_timestamp', 'recorded_at: not an RFC 3339 time with offset'];
        ELSIF jsonb_typeof(v) NOT IN ('string', 'number') THEN
            RETURN ARRAY['invalid_type', 'recorded_at: expected a string or number'];
        END IF;
    END IF;

    v := ev->'user';
    IF v IS NULL OR v = 'null' THEN RETURN ARRAY['missing_field', 'user: required field is missing']; END IF;
    IF jsonb_typeof(v) <> 'object' THEN RETURN ARRAY['invalid_type', 'user: expected an object']; END IF;
    SELECT key INTO k FROM jsonb_object_keys(v) AS key WHERE key NOT IN ('email', 'name') ORDER BY 1 LIMIT 1;
    IF k IS NOT NULL THEN RETURN ARRAY['unknown_field', 'user.' || k || ': unknown field']; END IF;
    IF v->'email' IS NULL OR v->'email' = 'null' THEN RETURN ARRAY['missing_field', 'user.email: required field is missing']; END IF;
    IF jsonb_typeof(v->'email') <> 'string' THEN RETURN ARRAY['invalid_type', 'user.email: expected a string']; END IF;
    IF length(v->>'email') > 254 OR (v->>'email') !~ '^[^@\s[:cntrl:]]+@[^@\s[:cntrl:]]+$' THEN
        RETURN ARRAY['invalid_value', 'user.email: expected an email address'];
    END IF;
    IF v->'name' IS NOT NULL AND v->'name' <> 'null' THEN
        IF jsonb_typeof(v->'name') <> 'string' THEN RETURN ARRAY['invalid_type', 'user.name: expected a string']; END IF;
        IF length(v->>'name') > 256 THEN RETURN ARRAY['invalid_value', 'user.name: too long']; END IF;
    END IF;

    v := ev->'session';
    IF v IS NULL OR v = 'null' THEN RETURN ARRAY['missing_field', 'session: required field is missing']; END IF;
    IF jsonb_typeof(v) <> 'object' THEN RETURN ARRAY['invalid_type', 'session: expected an object']; END IF;
    SELECT key INTO k FROM jsonb_object_keys(v) AS key
     WHERE key NOT IN ('id', 'started_at', 'ended_at', 'device') ORDER BY 1 LIMIT 1;
    IF k IS NOT NULL THEN RETURN ARRAY['unknown_field', 'session.' || k || ': unknown field']; END IF;
    IF v->'id' IS NULL OR v->'id' = 'null' THEN RETURN ARRAY['missing_field', 'session.id: required field is missing']; END IF;
    IF jsonb_typeof(v->'id') <> 'string' THEN RETURN ARRAY['invalid_type', 'session.id: expected a string']; END IF;
    IF length(v->>'id') NOT BETWEEN 1 AND 128 THEN RETURN ARRAY['invalid_value', 'session.id: bad length']; END IF;
    IF v->'started_at' IS NULL OR v->'started_at' = 'null' THEN
        RETURN ARRAY['missing_field', 'session.started_at: required field is missing'];
    END IF;
    IF jsonb_typeof(v->'started_at') = 'string' AND (v->>'started_at') !~ ts_re THEN
        RETURN ARRAY['invalid_timestamp', 'session.started_at: not an RFC 3339 time with offset'];
    ELSIF jsonb_typeof(v->'started_at') NOT IN ('string', 'number') THEN
        RETURN ARRAY['invalid_type', 'session.started_at: expected a string or number'];
    END IF;
    IF v->'ended_at' IS NOT NULL AND v->'ended_at' <> 'null' THEN
        IF jsonb_typeof(v->'ended_at') = 'string' AND (v->>'ended_at') !~ ts_re THEN
            RETURN ARRAY['invalid_timestamp', 'session.ended_at: not an RFC 3339 time with offset'];
        ELSIF jsonb_typeof(v->'ended_at') NOT IN ('string', 'number') THEN
            RETURN ARRAY['invalid_type', 'session.ended_at: expected a string or number'];
        END IF;
        IF reference.to_time(v->'ended_at') < reference.to_time(v->'started_at') THEN
            RETURN ARRAY['invalid_value', 'session.ended_at: before session.started_at'];
        END IF;
    END IF;
    IF v->'device' IS NOT NULL AND v->'device' <> 'null' THEN
        IF jsonb_typeof(v->'device') <> 'object' THEN RETURN ARRAY['invalid_type', 'session.device: expected an object']; END IF;
        SELECT key INTO k FROM jsonb_each(v->'device') AS d (key, value)
         WHERE key IN ('id', 'type', 'os', 'app_version', 'model')
           AND value <> 'null' AND (jsonb_typeof(value) <> 'string' OR length(value #>> '{}') > 256)
         LIMIT 1;
        IF k IS NOT NULL THEN RETURN ARRAY['invalid_type', 'session.device.' || k || ': expected a short string']; END IF;
    END IF;

    v := ev->'metrics';
    IF v IS NULL OR v = 'null' THEN RETURN ARRAY['missing_field', 'metrics: required field is missing']; END IF;
    IF jsonb_typeof(v) <> 'object' THEN RETURN ARRAY['invalid_type', 'metrics: expected an object']; END IF;
    SELECT key INTO k FROM jsonb_object_keys(v) AS key
     WHERE key NOT IN ('talked_time', 'microphone_used', 'speaker_used', 'voice_sentiment') ORDER BY 1 LIMIT 1;
    IF k IS NOT NULL THEN RETURN ARRAY['unknown_field', 'metrics.' || k || ': unknown field']; END IF;
    IF v->'talked_time' IS NULL OR v->'talked_time' = 'null' THEN
        RETURN ARRAY['missing_field', 'metrics.talked_time: required field is missing'];
    END IF;
    IF jsonb_typeof(v->'talked_time') <> 'number' THEN RETURN ARRAY['invalid_type', 'metrics.talked_time: expected a number']; END IF;
    IF (v->>'talked_time')::numeric NOT BETWEEN 0 AND 86400 THEN
        RETURN ARRAY['invalid_value', 'metrics.talked_time: expected a number from 0 to 86400'];
    END IF;
    IF v->'microphone_used' IS NOT NULL AND v->'microphone_used' <> 'null' AND jsonb_typeof(v->'microphone_used') <> 'boolean' THEN
        RETURN ARRAY['invalid_type', 'metrics.microphone_used: expected a boolean'];
    END IF;
    IF v->'speaker_used' IS NOT NULL AND v->'speaker_used' <> 'null' AND jsonb_typeof(v->'speaker_used') <> 'boolean' THEN
        RETURN ARRAY['invalid_type', 'metrics.speaker_used: expected a boolean'];
    END IF;
    IF v->'voice_sentiment' IS NOT NULL AND v->'voice_sentiment' <> 'null' THEN
        IF jsonb_typeof(v->'voice_sentiment') <> 'number' THEN
            RETURN ARRAY['invalid_type', 'metrics.voice_sentiment: expected a number'];
        END IF;
        IF (v->>'voice_sentiment')::numeric NOT BETWEEN -1 AND 1 THEN
            RETURN ARRAY['invalid_value', 'metrics.voice_sentiment: expected a number from -1 to 1'];
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- A contract timestamp (RFC 3339 text or epoch seconds) as timestamptz.
CREATE OR REPLACE FUNCTION reference.to_time(v jsonb)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE jsonb_typeof(v)
               WHEN 'number' THEN to_timestamp((v #>> '{}')::double precision)
               WHEN 'string' THEN (v #>> '{}')::timestamptz
           END
$$;

CREATE OR REPLACE FUNCTION reference.ingest_metrics(events jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
BEGIN
    IF events IS NULL THEN
        RAISE EXCEPTION 'events must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF jsonb_typeof(events) NOT IN ('object', 'array') THEN
        RAISE EXCEPTION 'events must be a JSON object or an array of objects' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    CREATE TEMP TABLE IF NOT EXISTS reference_batch (
        idx int, ev jsonb, code text, message text,
        event_id text COLLATE "C", email text COLLATE "C", name text,
        session_id text COLLATE "C", started_at timestamptz, ended_at timestamptz,
        recorded_at timestamptz, device jsonb, talked double precision,
        mic boolean, spk boolean, sentiment double precision,
        user_key bigint, session_pk bigint, outcome text
    ) ON COMMIT DELETE ROWS;
    TRUNCATE reference_batch;

    -- Validate and extract, one row per event.
    INSERT INTO reference_batch (idx, ev, code, message, event_id, email, name, session_id,
                                 started_at, ended_at, recorded_at, device, talked, mic, spk, sentiment,
                                 user_key)
    SELECT e.idx, e.ev, p[1], p[2],
           CASE WHEN p IS NULL THEN e.ev->>'event_id' END,
           CASE WHEN p IS NULL THEN lower(e.ev->'user'->>'email') END,
           CASE WHEN p IS NULL THEN nullif(e.ev->'user'->>'name', '') END,
           CASE WHEN p IS NULL THEN e.ev->'session'->>'id' END,
           CASE WHEN p IS NULL THEN reference.to_time(e.ev->'session'->'started_at') END,
           CASE WHEN p IS NULL THEN reference.to_time(e.ev->'session'->'ended_at') END,
           CASE WHEN p IS NULL THEN coalesce(reference.to_time(e.ev->'recorded_at'), now()) END,
           CASE WHEN p IS NULL THEN nullif(e.ev->'session'->'device', 'null') END,
           CASE WHEN p IS NULL THEN (e.ev->'metrics'->>'talked_time')::double precision END,
           CASE WHEN p IS NULL THEN (e.ev->'metrics'->>'microphone_used')::boolean END,
           CASE WHEN p IS NULL THEN (e.ev->'metrics'->>'speaker_used')::boolean END,
           CASE WHEN p IS NULL THEN (e.ev->'metrics'->>'voice_sentiment')::double precision END,
           -- The user key: 64 bits of the SHA-256 of the e-mail, as the tables define it.
           CASE WHEN p IS NULL THEN ('x' || left(encode(sha256(convert_to(
               lower(e.ev->'user'->>'email'), 'UTF8')), 'hex'), 16))::bit(64)::bigint END
    FROM (SELECT a.ordinality::int - 1 AS idx, a.value AS ev
          FROM jsonb_array_elements(CASE jsonb_typeof(events) WHEN 'array' THEN events
                                         ELSE jsonb_build_array(events) END) WITH ORDINALITY AS a) AS e,
         LATERAL reference.problem(e.ev) AS p;

    -- Repeats of stored events change nothing.
    UPDATE reference_batch b SET outcome = 'duplicate'
    FROM user_metrics.events e
    WHERE b.code IS NULL AND e.user_key = b.user_key AND e.event_id = b.event_id;

    INSERT INTO user_metrics.users (user_key, email)
    SELECT DISTINCT user_key, email FROM reference_batch WHERE code IS NULL AND outcome IS NULL ORDER BY 1
    ON CONFLICT (user_key) DO NOTHING;

    -- Sessions are the user's; lock every session in order.
    INSERT INTO user_metrics.sessions (user_key, client_session_id, started_at)
    SELECT DISTINCT user_key, session_id, 'infinity'::timestamptz
    FROM reference_batch WHERE code IS NULL AND outcome IS NULL
    ORDER BY 1, 2
    ON CONFLICT (user_key, client_session_id) DO NOTHING;
    PERFORM 1 FROM user_metrics.sessions s
    WHERE (s.user_key, s.client_session_id) IN
          (SELECT user_key, session_id FROM reference_batch WHERE code IS NULL AND outcome IS NULL)
    ORDER BY s.user_key, s.client_session_id FOR UPDATE;
    UPDATE reference_batch b
    SET session_pk = s.id
    FROM user_metrics.sessions s
    WHERE b.code IS NULL AND b.outcome IS NULL
      AND s.user_key = b.user_key AND s.client_session_id = b.session_id;

    -- Repeats within the batch: the first one counts.
    UPDATE reference_batch b SET outcome = 'duplicate'
    FROM (SELECT idx, row_number() OVER (PARTITION BY user_key, event_id ORDER BY idx) AS n
          FROM reference_batch WHERE code IS NULL AND outcome IS NULL AND event_id IS NOT NULL) d
    WHERE d.idx = b.idx AND d.n > 1;

    WITH stored AS (
        INSERT INTO user_metrics.events (user_key, event_id, session_id, recorded_at, talked_time,
                                         microphone_used, speaker_used, voice_sentiment)
        SELECT user_key, event_id, session_pk, recorded_at, talked, mic, spk, sentiment
        FROM reference_batch WHERE code IS NULL AND outcome IS NULL ORDER BY user_key, event_id
        ON CONFLICT (user_key, event_id) DO NOTHING
        RETURNING user_key, event_id
    )
    UPDATE reference_batch b SET outcome = 'stored'
    WHERE b.code IS NULL AND b.outcome IS NULL
      AND (b.event_id IS NULL OR (b.user_key, b.event_id) IN (SELECT user_key, event_id FROM stored));
    UPDATE reference_batch SET outcome = 'duplicate' WHERE code IS NULL AND outcome IS NULL;

    UPDATE user_metrics.sessions s SET
        started_at = LEAST(s.started_at, t.started_at),
        ended_at = GREATEST(s.ended_at, t.ended_at),
        device = COALESCE(s.device, t.device),
        event_count = s.event_count + t.n,
        talked_time = s.talked_time + t.talked,
        microphone_used = CASE WHEN t.mic IS NULL THEN s.microphone_used ELSE COALESCE(s.microphone_used, false) OR t.mic END,
        speaker_used = CASE WHEN t.spk IS NULL THEN s.speaker_used ELSE COALESCE(s.speaker_used, false) OR t.spk END,
        sentiment_sum = s.sentiment_sum + t.ssum,
        sentiment_count = s.sentiment_count + t.scount
    FROM (SELECT user_key, session_pk, min(started_at) AS started_at, max(ended_at) AS ended_at,
                 (array_agg(device ORDER BY idx) FILTER (WHERE device IS NOT NULL))[1] AS device,
                 count(*) AS n, sum(talked) AS talked, bool_or(mic) AS mic, bool_or(spk) AS spk,
                 coalesce(sum(sentiment), 0) AS ssum, count(sentiment) AS scount
          FROM reference_batch WHERE outcome = 'stored' GROUP BY user_key, session_pk) t
    WHERE s.user_key = t.user_key AND s.id = t.session_pk;

    UPDATE user_metrics.users u SET name = n.name
    FROM (SELECT DISTINCT ON (user_key) user_key, name FROM reference_batch
          WHERE outcome = 'stored' AND name IS NOT NULL ORDER BY user_key, idx DESC) n
    WHERE u.user_key = n.user_key AND u.name IS DISTINCT FROM n.name;

    -- Each distinct payload once, counting its arrivals, as the extension keeps it.
    INSERT INTO user_metrics.rejected_events AS q
        (batch_index, event_id, error_code, error_message, payload, times_received)
    SELECT min(idx), CASE WHEN jsonb_typeof(ev) = 'object' THEN ev->>'event_id' END, code, message, ev,
           count(*)
    FROM reference_batch WHERE code IS NOT NULL
    GROUP BY ev, code, message
    ON CONFLICT (payload_digest) DO UPDATE SET
        times_received   = q.times_received + excluded.times_received,
        last_received_at = excluded.last_received_at,
        error_code       = excluded.error_code,
        error_message    = excluded.error_message;

    SELECT jsonb_build_object(
        'accepted', count(*) FILTER (WHERE outcome = 'stored'),
        'duplicates', count(*) FILTER (WHERE outcome = 'duplicate' AND code IS NULL),
        'rejected', count(*) FILTER (WHERE code IS NOT NULL),
        'errors', coalesce(jsonb_agg(jsonb_build_object('index', idx, 'code', code, 'message', message)
                                     ORDER BY idx) FILTER (WHERE code IS NOT NULL), '[]'))
    INTO result FROM reference_batch;
    RETURN result;
END
$$;

