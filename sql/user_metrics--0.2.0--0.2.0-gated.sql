-- user_metrics 0.2.0 -> 0.2.0-gated: the first of the two steps of an update from
-- 0.2.0 while clients keep calling (README, "Upgrading"):
--     ALTER EXTENSION user_metrics UPDATE TO '0.2.0-gated';
--     ALTER EXTENSION user_metrics UPDATE;
--
-- Why: a call that starts while ALTER EXTENSION UPDATE runs still sees 0.2.0's
-- functions (the update is not committed), enters 0.2.0's code, waits for the
-- tables the update has locked, and then runs 0.2.0's statements against 0.3.0's
-- tables, where they fail. 0.2.0's functions cannot wait before their own code:
-- this step puts a gate in front of each, committed before the update starts.
-- Each function keeps its name, arguments, result, owner and grants; it becomes
-- a PL/pgSQL function that takes user_metrics.upgrade_gate() (a shared advisory
-- lock, which calls take without waiting for each other) and then calls 0.2.0's
-- code under a name of its own (<name>_0_2_0). The update (0.2.0-gated -> 0.2.0
-- -> 0.3.0, one transaction) first takes that lock exclusively: it waits for the
-- calls already inside, and the calls that come meanwhile wait at the gate, then
-- find the extension at 0.3.0 and call the function as 0.3.0 defines it (same
-- name, same arguments; the reports' exact totals given in 0.2.0's double
-- precision to a call made before the update). This version changes no table.
-- The gates make each function VOLATILE: each statement in them sees what was
-- committed before it, which is how they see the update once it is done.

CREATE FUNCTION user_metrics.upgrade_gate() RETURNS boolean
    VOLATILE
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    -- Held until the call's transaction ends; an update takes it exclusively.
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('user_metrics'),
                                                    pg_catalog.hashtext('update'));
    RETURN (SELECT e.extversion = '0.2.0-gated' FROM pg_catalog.pg_extension AS e
            WHERE e.extname = 'user_metrics');
END
$gate$;
REVOKE ALL ON FUNCTION user_metrics.upgrade_gate() FROM PUBLIC;

-- 0.2.0's code, under names of its own, for the gates only.
CREATE FUNCTION user_metrics.ingest_metrics_0_2_0(events jsonb, on_error text DEFAULT 'quarantine')
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS '$libdir/user_metrics', 'ingest_metrics_wrapper';
CREATE FUNCTION user_metrics.health_0_2_0() RETURNS jsonb
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS '$libdir/user_metrics', 'health_wrapper';
CREATE FUNCTION user_metrics.replay_rejected_0_2_0(ids bigint[]) RETURNS jsonb
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS '$libdir/user_metrics', 'replay_rejected_wrapper';
CREATE FUNCTION user_metrics.discard_rejected_0_2_0(ids bigint[]) RETURNS bigint
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS '$libdir/user_metrics', 'discard_rejected_wrapper';
CREATE FUNCTION user_metrics.list_rejected_events_0_2_0(
    since timestamptz DEFAULT NULL, max_rows integer DEFAULT 100
) RETURNS TABLE (
    id bigint, received_at timestamptz, batch_index integer, event_id text,
    error_code text, error_message text, payload jsonb
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS '$libdir/user_metrics', 'list_rejected_events_wrapper';
CREATE FUNCTION user_metrics.aggregate_user_metrics_0_2_0(
    email text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (email text, name text, total_talked_time double precision, session_count bigint)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS '$libdir/user_metrics', 'aggregate_user_metrics_wrapper';
CREATE FUNCTION user_metrics.get_session_details_0_2_0(session_id text)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time double precision, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS '$libdir/user_metrics', 'get_session_details_wrapper';
CREATE FUNCTION user_metrics.generate_weekly_report_0_2_0(week_end timestamptz DEFAULT now())
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time double precision,
    last_session_at timestamptz
)
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS '$libdir/user_metrics', 'generate_weekly_report_wrapper';
REVOKE ALL ON FUNCTION
    user_metrics.ingest_metrics_0_2_0(jsonb, text),
    user_metrics.health_0_2_0(),
    user_metrics.replay_rejected_0_2_0(bigint[]),
    user_metrics.discard_rejected_0_2_0(bigint[]),
    user_metrics.list_rejected_events_0_2_0(timestamptz, integer),
    user_metrics.aggregate_user_metrics_0_2_0(text, timestamptz, timestamptz),
    user_metrics.get_session_details_0_2_0(text),
    user_metrics.generate_weekly_report_0_2_0(timestamptz)
    FROM PUBLIC;

-- The gates, in place of 0.2.0's functions.
CREATE OR REPLACE FUNCTION user_metrics.ingest_metrics(events jsonb, on_error text DEFAULT 'quarantine')
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN user_metrics.ingest_metrics_0_2_0($1, $2);
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
        RETURN user_metrics.health_0_2_0();
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
        RETURN user_metrics.replay_rejected_0_2_0($1);
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
        RETURN user_metrics.discard_rejected_0_2_0($1);
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
        RETURN QUERY SELECT * FROM user_metrics.list_rejected_events_0_2_0($1, $2);
    ELSE
        RETURN QUERY SELECT * FROM user_metrics.list_rejected_events($1, $2);
    END IF;
END
$gate$;

-- aggregate_user_metrics and get_session_details have an argument and a result
-- column of the same name, which PL/pgSQL refuses: their gates are SQL functions
-- calling a PL/pgSQL one of their own (<name>_gate).
CREATE FUNCTION user_metrics.aggregate_user_metrics_gate(
    p_email text, p_since timestamptz, p_until timestamptz
) RETURNS TABLE (email text, name text, total_talked_time double precision, session_count bigint)
    VOLATILE
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.aggregate_user_metrics_0_2_0($1, $2, $3);
    ELSE
        RETURN QUERY SELECT r.email, r.name, r.total_talked_time::double precision, r.session_count
                     FROM user_metrics.aggregate_user_metrics($1, $2, $3) AS r;
    END IF;
END
$gate$;
CREATE OR REPLACE FUNCTION user_metrics.aggregate_user_metrics(
    email text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (email text, name text, total_talked_time double precision, session_count bigint)
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE sql
    AS $gate$ SELECT * FROM user_metrics.aggregate_user_metrics_gate($1, $2, $3) $gate$;

CREATE FUNCTION user_metrics.get_session_details_gate(p_session_id text)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time double precision, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    VOLATILE
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.get_session_details_0_2_0($1);
    ELSE
        RETURN QUERY SELECT r.session_id, r.email, r.name, r.started_at, r.ended_at, r.duration_seconds,
                            r.device, r.talked_time::double precision, r.event_count, r.microphone_used,
                            r.speaker_used, r.avg_voice_sentiment
                     FROM user_metrics.get_session_details($1) AS r;
    END IF;
END
$gate$;
CREATE OR REPLACE FUNCTION user_metrics.get_session_details(session_id text)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time double precision, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE sql
    AS $gate$ SELECT * FROM user_metrics.get_session_details_gate($1) $gate$;
REVOKE ALL ON FUNCTION
    user_metrics.aggregate_user_metrics_gate(text, timestamptz, timestamptz),
    user_metrics.get_session_details_gate(text)
    FROM PUBLIC;

CREATE OR REPLACE FUNCTION user_metrics.generate_weekly_report(week_end timestamptz DEFAULT now())
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time double precision,
    last_session_at timestamptz
)
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE plpgsql AS $gate$
BEGIN
    IF user_metrics.upgrade_gate() THEN
        RETURN QUERY SELECT * FROM user_metrics.generate_weekly_report_0_2_0($1);
    ELSE
        RETURN QUERY SELECT r.email, r.name, r.session_count, r.total_talked_time::double precision,
                            r.last_session_at
                     FROM user_metrics.generate_weekly_report($1) AS r;
    END IF;
END
$gate$;
