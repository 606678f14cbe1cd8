-- user_metrics 0.3.0-gated -> 0.3.0: the gates of user_metrics--0.3.0--0.3.0-gated.sql
-- taken away, 0.3.0 exactly as it was. ALTER EXTENSION user_metrics UPDATE runs
-- it first on the way from 0.3.0-gated to 0.4.0, in the same transaction as the
-- update to 0.4.0: the calls that come meanwhile wait at the gates, which are
-- only gone for them once that transaction commits.

-- Waits for the calls inside the gates; holds the new ones until the commit.
SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('user_metrics'), pg_catalog.hashtext('update'));

-- 0.3.0's definitions, as its install script (sql/releases/user_metrics--0.3.0.sql)
-- has them; the settings it gave two of them afterwards are part of them here.
CREATE OR REPLACE FUNCTION user_metrics.aggregate_user_metrics(
    "email" TEXT DEFAULT NULL,
    "since" timestamp with time zone DEFAULT NULL,
    "until" timestamp with time zone DEFAULT NULL
) RETURNS TABLE (
    "email" TEXT,
    "name" TEXT,
    "total_talked_time" NUMERIC,
    "session_count" bigint
)
STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'aggregate_user_metrics_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.discard_rejected(
    "ids" bigint[]
) RETURNS bigint
STRICT VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'discard_rejected_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.forget_user(
    "email" TEXT
) RETURNS jsonb
VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'forget_user_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.generate_weekly_report(
    "week_ending" date,
    "tz" TEXT
) RETURNS TABLE (
    "email" TEXT,
    "name" TEXT,
    "session_count" bigint,
    "total_talked_time" NUMERIC,
    "last_session_at" timestamp with time zone
)
STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'generate_local_weekly_report_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.generate_weekly_report(
    "week_end" timestamp with time zone DEFAULT now()
) RETURNS TABLE (
    "email" TEXT,
    "name" TEXT,
    "session_count" bigint,
    "total_talked_time" NUMERIC,
    "last_session_at" timestamp with time zone
)
STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'generate_weekly_report_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.get_session_details(
    "session_id" TEXT,
    "email" TEXT DEFAULT NULL
) RETURNS TABLE (
    "session_id" TEXT,
    "email" TEXT,
    "name" TEXT,
    "started_at" timestamp with time zone,
    "ended_at" timestamp with time zone,
    "duration_seconds" double precision,
    "device" jsonb,
    "talked_time" NUMERIC,
    "event_count" bigint,
    "microphone_used" bool,
    "speaker_used" bool,
    "avg_voice_sentiment" double precision
)
STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
SET enable_seqscan TO off
AS 'user_metrics-0.3.0', 'get_session_details_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.health() RETURNS jsonb
STRICT STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'health_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.ingest_metrics(
    "events" jsonb,
    "on_error" TEXT DEFAULT 'quarantine'
) RETURNS jsonb
VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
SET enable_seqscan TO off
AS 'user_metrics-0.3.0', 'ingest_metrics_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.list_rejected_events(
    "since" timestamp with time zone DEFAULT NULL,
    "max_rows" INT DEFAULT 100
) RETURNS TABLE (
    "id" bigint,
    "received_at" timestamp with time zone,
    "batch_index" INT,
    "event_id" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "payload" jsonb
)
STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'list_rejected_events_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.purge(
    "older_than" interval,
    "max_sessions" INT DEFAULT 10000
) RETURNS jsonb
VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'purge_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.replay_rejected(
    "ids" bigint[]
) RETURNS jsonb
STRICT VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'replay_rejected_wrapper';

CREATE OR REPLACE FUNCTION user_metrics.resync_sequences() RETURNS TABLE (
    "table_name" TEXT,
    "sequence_name" TEXT,
    "max_id" bigint,
    "previous_value" bigint,
    "new_value" bigint
)
STRICT VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'user_metrics-0.3.0', 'resync_sequences_wrapper';

DROP FUNCTION
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
    user_metrics.resync_sequences_0_3_0(),
    user_metrics.aggregate_user_metrics_gate(text, timestamptz, timestamptz),
    user_metrics.get_session_details_gate(text, text),
    user_metrics.upgrade_gate();
