-- Adds one call's changes to the row counts health() reports. $1: this backend's
-- slot (its backend number, which no other running backend has, so concurrent
-- calls never wait here); $2..$5: rows added (or removed, negative) to users,
-- sessions, events and rejected_events. No indexed column changes: HOT.
INSERT INTO user_metrics.counters AS c (slot, users, sessions, events, rejected)
VALUES ($1::integer, $2::bigint, $3::bigint, $4::bigint, $5::bigint)
ON CONFLICT (slot) DO UPDATE SET
    users    = c.users + excluded.users,
    sessions = c.sessions + excluded.sessions,
    events   = c.events + excluded.events,
    rejected = c.rejected + excluded.rejected
