-- forget_user. The audit row of one erasure, without the e-mail or the name. $1:
-- the user key; $2..$5: the users, sessions, events and quarantined events
-- removed. Returns when.
INSERT INTO user_metrics.forgotten_users (user_key, users, sessions, events, quarantined)
VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::bigint)
RETURNING forgotten_at
