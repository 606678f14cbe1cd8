-- $1: user keys: the users an ingest_metrics call created, or those whose sessions
-- purge removed. Removes those left without a session, so that a refused event
-- changes nothing and a purge leaves no user behind its sessions. Returns what it
-- removed, for the row counts.
DELETE FROM user_metrics.users AS u
WHERE u.user_key = ANY ($1::bigint[])
  AND NOT EXISTS (SELECT FROM user_metrics.sessions AS s WHERE s.user_key = u.user_key)
RETURNING u.user_key
