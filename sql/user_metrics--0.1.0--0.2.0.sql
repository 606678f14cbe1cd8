-- user_metrics 0.1.0 -> 0.2.0: quarantined events can be replayed and discarded.
-- Run by ALTER EXTENSION user_metrics UPDATE. Brings a 0.1.0 installation to
-- exactly what CREATE EXTENSION makes for 0.2.0 (the upgrade test compares the two).

-- How often replay_rejected refused an event again, and when it last tried.
ALTER TABLE user_metrics.rejected_events
    ADD COLUMN replay_count integer NOT NULL DEFAULT 0 CHECK (replay_count >= 0),
    ADD COLUMN last_replayed_at timestamptz;

CREATE FUNCTION user_metrics.replay_rejected(ids bigint[]) RETURNS jsonb
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'replay_rejected_wrapper';

CREATE FUNCTION user_metrics.discard_rejected(ids bigint[]) RETURNS bigint
    STRICT VOLATILE SECURITY DEFINER
    SET search_path TO pg_catalog, pg_temp
    LANGUAGE c AS 'MODULE_PATHNAME', 'discard_rejected_wrapper';

-- As for every function of the extension: nobody but the owner, then the admin role.
REVOKE ALL ON FUNCTION user_metrics.replay_rejected(bigint[]), user_metrics.discard_rejected(bigint[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_metrics.replay_rejected(bigint[]), user_metrics.discard_rejected(bigint[])
    TO user_metrics_admin;
