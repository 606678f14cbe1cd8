-- $1: keys of the users this call created. Removes those left without a session
-- (all their events were rejected or repeats), so a refused event changes nothing.
-- Returns what it removed, for the row counts.
-- The statement is the body of a WITH, and the rows it returns are read from
-- there: PostgreSQL's SPI checks that a statement with RETURNING returned as many
-- rows as it processed, and on a Citus distributed table that count also holds
-- the rows it skipped, so run bare it fails with "consistency check on SPI tuple
-- count failed" whenever it skips one.
WITH removed AS (
    DELETE FROM user_metrics.users AS u
    WHERE u.user_key = ANY ($1::bigint[])
      AND NOT EXISTS (SELECT FROM user_metrics.sessions AS s WHERE s.user_key = u.user_key)
    RETURNING u.user_key
)
SELECT * FROM removed
