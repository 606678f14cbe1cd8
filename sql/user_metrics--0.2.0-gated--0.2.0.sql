-- user_metrics 0.2.0-gated -> 0.2.0: the gates of user_metrics--0.2.0--0.2.0-gated.sql
-- taken away, 0.2.0 exactly as it was. ALTER EXTENSION user_metrics UPDATE runs
-- it first on the way from 0.2.0-gated to 0.3.0, in the same transaction as the
-- update to 0.3.0: the calls that come meanwhile wait at the gates, which are
-- only gone for them once that transaction commits.

-- Waits for the calls inside the gates; holds the new ones until the commit.
SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('user_metrics'), pg_catalog.hashtext('update'));

-- 0.2.0's definitions. MODULE_PATHNAME is 0.2.0's library
-- (sql/releases/user_metrics--0.2.0.control).
CREATE OR REPLACE FUNCTION user_metrics.ingest_metrics(events jsonb, on_error text DEFAULT 'quarantine')
RETURNS jsonb
    VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS 'MODULE_PATHNAME', 'ingest_metrics_wrapper';
CREATE OR REPLACE FUNCTION user_metrics.health() RETURNS jsonb
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'health_wrapper';
CREATE OR REPLACE FUNCTION user_metrics.replay_rejected(ids bigint[]) RETURNS jsonb
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'replay_rejected_wrapper';
CREATE OR REPLACE FUNCTION user_metrics.discard_rejected(ids bigint[]) RETURNS bigint
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'discard_rejected_wrapper';
CREATE OR REPLACE FUNCTION user_metrics.list_rejected_events(
    since timestamptz DEFAULT NULL, max_rows integer DEFAULT 100
) RETURNS TABLE (
    id bigint, received_at timestamptz, batch_index integer, event_id text,
    error_code text, error_message text, payload jsonb
)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'list_rejected_events_wrapper';
CREATE OR REPLACE FUNCTION user_metrics.aggregate_user_metrics(
    email text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL
) RETURNS TABLE (email text, name text, total_talked_time double precision, session_count bigint)
    STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'aggregate_user_metrics_wrapper';
CREATE OR REPLACE FUNCTION user_metrics.get_session_details(session_id text)
RETURNS TABLE (
    session_id text, email text, name text, started_at timestamptz, ended_at timestamptz,
    duration_seconds double precision, device jsonb, talked_time double precision, event_count bigint,
    microphone_used boolean, speaker_used boolean, avg_voice_sentiment double precision
)
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    SET enable_seqscan TO off
    LANGUAGE c AS 'MODULE_PATHNAME', 'get_session_details_wrapper';
CREATE OR REPLACE FUNCTION user_metrics.generate_weekly_report(week_end timestamptz DEFAULT now())
RETURNS TABLE (
    email text, name text, session_count bigint, total_talked_time double precision,
    last_session_at timestamptz
)
    STRICT STABLE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'generate_weekly_report_wrapper';

DROP FUNCTION
    user_metrics.ingest_metrics_0_2_0(jsonb, text),
    user_metrics.health_0_2_0(),
    user_metrics.replay_rejected_0_2_0(bigint[]),
    user_metrics.discard_rejected_0_2_0(bigint[]),
    user_metrics.list_rejected_events_0_2_0(timestamptz, integer),
    user_metrics.aggregate_user_metrics_0_2_0(text, timestamptz, timestamptz),
    user_metrics.get_session_details_0_2_0(text),
    user_metrics.generate_weekly_report_0_2_0(timestamptz),
    user_metrics.aggregate_user_metrics_gate(text, timestamptz, timestamptz),
    user_metrics.get_session_details_gate(text),
    user_metrics.upgrade_gate();
