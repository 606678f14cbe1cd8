-- user_metrics 0.3.0 -> 0.3.0-gated: the first of the two steps of an update from
-- 0.3.0 while clients keep calling (README, "Upgrading"):
--     ALTER EXTENSION user_metrics UPDATE TO '0.3.0-gated';
--     ALTER EXTENSION user_metrics UPDATE;
--
-- Why, and how, as user_metrics--0.2.0--0.2.0-gated.sql explains: a call that
-- starts while ALTER EXTENSION UPDATE runs still sees 0.3.0's functions, waits for
-- the tables the update has locked, and would then run 0.3.0's statements against
-- 0.4.0's tables. This step puts a gate in front of each function that reads or
-- writes the tables (normalize_email and user_key touch none): each keeps its
-- name, arguments, result, owner and grants, and becomes a PL/pgSQL function that
-- takes user_metrics.upgrade_gate() (a shared advisory lock, which calls take
-- without waiting for each other) and then calls 0.3.0's code under a name of
-- its own (<name>_0_3_0). The update (0.3.0-gated -> 0.3.0 -> 0.4.0, one
-- transaction) first takes that lock exclusively: calls already inside finish,
-- calls that come meanwhile wait at the gate, then find the extension at 0.4.0
-- and call the function as 0.4.0 defines it. The gates make each function
-- VOLATILE: each statement in them sees what was committed before it, which is
-- how they see the update once it is done. No table changes in this step.

CREATE FUNCTION user_metrics.upgrade_gate() RETURNS boolean
    VOLATILE
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    -- Held until the call's transaction ends; an update takes it exclusively.
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('user_metrics'),
                                                    pg_catalog.hashtext('update'));
    RETURN (SELECT e.extversion = '0.3.0-gated' FROM pg_catalog.pg_extension AS e
            WHERE e.extname = 'user_metrics');
END
$gate$;
REVOKE ALL ON FUNCTION user_metrics.upgrade_gate() FROM PUBLIC;

-- 0.3.0's code, under names of its own, for the gates only.
CREATE FUNCTION user_metrics.ingest_metrics_0_3_0(events jsonb, on_error text DEFAULT 'quarantine')
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS 'user_metrics-0.3.0', 'ingest_metrics_wrapper';
CREATE FUNCTION user_metrics.health_0_3_0() RETURNS jsonb
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'health_wrapper';
CREATE FUNCTION user_metrics.replay_rejected_0_3_0(ids bigint[]) RETURNS jsonb
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'replay_rejected_wrapper';
CREATE FUNCTION user_metrics.discard_rejected_0_3_0(ids bigint[]) RETURNS bigint
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'discard_rejected_wrapper';
CREATE FUNCTION user_metrics.list_rejected_events_0_3_0(
    since timestamptz DEFAULT NULL, max_rows integer DEFAULT 100
) RETURNS TABLE (
    id bigint, received_at timestamptz, batch_index integer, event_id text,
    error_code text, error_message text, payload jsonb
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'list_rejected_events_wrapper';
CREATE FUNCTION user_metrics.aggregate_user_metrics_0_3_0(
    email text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (email text, name text, total_talked_time numeric, session_count bigint)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'aggregate_user_metrics_wrapper';
CREATE FUNCTION user_metrics.get_session_details_0_3_0(session_id text, email text DEFAULT NULL)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time numeric, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS 'user_metrics-0.3.0', 'get_session_details_wrapper';
CREATE FUNCTION user_metrics.generate_weekly_report_0_3_0(week_end timestamptz DEFAULT now())
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time numeric,
    last_session_at timestamptz
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'generate_weekly_report_wrapper';
CREATE FUNCTION user_metrics.generate_weekly_report_0_3_0(week_ending date, tz text)
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time numeric,
    last_session_at timestamptz
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'generate_local_weekly_report_wrapper';
CREATE FUNCTION user_metrics.forget_user_0_3_0(email text) RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'forget_user_wrapper';
CREATE FUNCTION user_metrics.purge_0_3_0(older_than interval, max_sessions integer DEFAULT 10000)
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'purge_wrapper';
CREATE FUNCTION user_metrics.resync_sequences_0_3_0() RETURNS TABLE (
    table_name text, sequence_name text, max_id bigint, previous_value bigint, new_value bigint
)
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'user_metrics-0.3.0', 'resync_sequences_wrapper';
REVOKE ALL ON FUNCTION
    user_metrics.ingest_metrics_0_3_0(jsonb, text),
    user_metrics.health_0_3_0(),
    user_metrics.replay_rejected_0_3_0(bigint[]),
    user_metrics.discard_rejected_0_3_0(bigint[]),
    user_metrics.list_rejected_events_0_3_0(timestamptz, integer),
    user_metrics.aggregate_user_metrics_0_3_0(text, timestamptz, timestamptz),
    user_metrics.get_session_details_0_3_0(text, text),
    user_metrics.generate_weekly_report_0_3_0(timestamptz),
    user_metrics.generate_weekly_report_0_3_0(date, text),
    user_metrics.forget_user_0_3_0(text),
    user_metrics.purge_0_3_0(interval, integer),
    user_metrics.resync_sequences_0_3_0()
    FROM PUBLIC;

-- The gates, in place of 0.3.0's functions. Where the next version returns more
-- columns than 0.3.0, a gate passed after the update returns 0.3.0's.
CREATE OR REPLACE FUNCTION user_metrics.ingest_metrics(events jsonb, on_error text DEFAULT 'quarantine')
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN user_metrics.ingest_metrics_0_3_0($1, $2);
    END IF;
    RETURN user_metrics.ingest_metrics($1, $2);
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.health() RETURNS jsonb
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN user_metrics.health_0_3_0();
    END IF;
    RETURN user_metrics.health();
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.replay_rejected(ids bigint[]) RETURNS jsonb
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN user_metrics.replay_rejected_0_3_0($1);
    END IF;
    RETURN user_metrics.replay_rejected($1);
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.discard_rejected(ids bigint[]) RETURNS bigint
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN user_metrics.discard_rejected_0_3_0($1);
    END IF;
    RETURN user_metrics.discard_rejected($1);
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.list_rejected_events(
    since timestamptz DEFAULT NULL, max_rows integer DEFAULT 100
) RETURNS TABLE (
    id bigint, received_at timestamptz, batch_index integer, event_id text,
    error_code text, error_message text, payload jsonb
)
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.list_rejected_events_0_3_0($1, $2);
    ELSE
        RETURN QUERY SELECT r.id, r.received_at, r.batch_index, r.event_id, r.error_code,
                            r.error_message, r.payload
                     FROM user_metrics.list_rejected_events($1, $2) AS r;
    END IF;
END
$gate$;

-- aggregate_user_metrics and get_session_details have an argument and a result
-- column of the same name, which PL/pgSQL refuses: their gates are SQL functions
-- calling a PL/pgSQL one of their own (<name>_gate).
CREATE FUNCTION user_metrics.aggregate_user_metrics_gate(
    p_email text, p_since timestamptz, p_until timestamptz
) RETURNS TABLE (email text, name text, total_talked_time numeric, session_count bigint)
    VOLATILE
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.aggregate_user_metrics_0_3_0($1, $2, $3);
    ELSE
        RETURN QUERY SELECT r.email, r.name, r.total_talked_time, r.session_count
                     FROM user_metrics.aggregate_user_metrics($1, $2, $3) AS r;
    END IF;
END
$gate$;
CREATE OR REPLACE FUNCTION user_metrics.aggregate_user_metrics(
    email text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (email text, name text, total_talked_time numeric, session_count bigint)
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE sql
    AS $gate$ SELECT * FROM user_metrics.aggregate_user_metrics_gate($1, $2, $3) $gate$;

CREATE FUNCTION user_metrics.get_session_details_gate(p_session_id text, p_email text)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time numeric, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    VOLATILE
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.get_session_details_0_3_0($1, $2);
    ELSE
        RETURN QUERY SELECT r.session_id, r.email, r.name, r.started_at, r.ended_at, r.duration_seconds,
                            r.device, r.talked_time, r.event_count, r.microphone_used,
                            r.speaker_used, r.avg_voice_sentiment
                     FROM user_metrics.get_session_details($1, $2) AS r;
    END IF;
END
$gate$;
CREATE OR REPLACE FUNCTION user_metrics.get_session_details(session_id text, email text DEFAULT NULL)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time numeric, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE sql
    AS $gate$ SELECT * FROM user_metrics.get_session_details_gate($1, $2) $gate$;
REVOKE ALL ON FUNCTION
    user_metrics.aggregate_user_metrics_gate(text, timestamptz, timestamptz),
    user_metrics.get_session_details_gate(text, text)
    FROM PUBLIC;

CREATE OR REPLACE FUNCTION user_metrics.generate_weekly_report(week_end timestamptz DEFAULT now())
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time numeric,
    last_session_at timestamptz
)
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.generate_weekly_report_0_3_0($1);
    ELSE
        RETURN QUERY SELECT r.email, r.name, r.session_count, r.total_talked_time, r.last_session_at
                     FROM user_metrics.generate_weekly_report($1) AS r;
    END IF;
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.generate_weekly_report(week_ending date, tz text)
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time numeric,
    last_session_at timestamptz
)
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.generate_weekly_report_0_3_0($1, $2);
    ELSE
        RETURN QUERY SELECT r.email, r.name, r.session_count, r.total_talked_time, r.last_session_at
                     FROM user_metrics.generate_weekly_report($1, $2) AS r;
    END IF;
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.forget_user(email text) RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN user_metrics.forget_user_0_3_0($1);
    END IF;
    RETURN user_metrics.forget_user($1);
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.purge(older_than interval, max_sessions integer DEFAULT 10000)
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN user_metrics.purge_0_3_0($1, $2);
    END IF;
    RETURN user_metrics.purge($1, $2);
END
$gate$;

CREATE OR REPLACE FUNCTION user_metrics.resync_sequences() RETURNS TABLE (
    table_name text, sequence_name text, max_id bigint, previous_value bigint, new_value bigint
)
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.resync_sequences_0_3_0();
    ELSE
        RETURN QUERY SELECT r.table_name, r.sequence_name, r.max_id, r.previous_value, r.new_value
                     FROM user_metrics.resync_sequences() AS r;
    END IF;
END
$gate$;

-- Every function this step made belongs to the extension's owner role, as the
-- functions the gates stand in for do: the gates run as that role, and 0.3.0's
-- code with its rights only, never with those of the superuser running this.
DO $owner$
DECLARE
    owner_role text := (SELECT c.relowner::pg_catalog.regrole::text FROM pg_catalog.pg_class AS c
                        WHERE c.oid = 'user_metrics.counters'::pg_catalog.regclass);
    made record;
BEGIN
    FOR made IN
        SELECT p.oid::pg_catalog.regprocedure AS signature
        FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace = 'user_metrics'::pg_catalog.regnamespace
          AND (p.proname = 'upgrade_gate' OR p.proname LIKE '%\_0\_3\_0' OR p.proname LIKE '%\_gate')
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO %s', made.signature, owner_role);
    END LOOP;
END
$owner$;
