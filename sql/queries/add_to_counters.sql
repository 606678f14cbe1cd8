-- Adds one call's changes to the row counts health() reports. $1: this backend's
-- slot (its backend number, which no other running backend has, so concurrent
-- calls never wait here); $2..$5: rows added (or removed, negative) to users,
-- sessions, events and rejected_events. A call that stores events sets the time
-- of the latest (now(): what events.received_at gets). No indexed column changes:
-- HOT.
INSERT INTO user_metrics.counters AS c (slot, users, sessions, events, rejected, last_received_at)
VALUES ($1::integer, $2::bigint, $3::bigint, $4::bigint, $5::bigint,
        CASE WHEN $4::bigint > 0 THEN now() END)
ON CONFLICT (slot) DO UPDATE SET
    users    = c.users + excluded.users,
    sessions = c.sessions + excluded.sessions,
    events   = c.events + excluded.events,
    rejected = c.rejected + excluded.rejected,
    last_received_at = GREATEST(c.last_received_at, excluded.last_received_at)
