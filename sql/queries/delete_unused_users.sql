-- $1: keys of the users this call created. Removes those left without a session
-- (all their events were rejected or repeats), so a refused event changes nothing.
-- Returns what it removed, for the row counts.
DELETE FROM user_metrics.users AS u
WHERE u.user_key = ANY ($1::bigint[])
  AND NOT EXISTS (SELECT FROM user_metrics.sessions AS s WHERE s.user_key = u.user_key)
RETURNING u.user_key
