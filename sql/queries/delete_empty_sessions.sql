-- $1: user keys; $2: row ids of the sessions this call created for which no event
-- was stored after all (each was a repeat, or refused), so that such events leave
-- nothing behind. Row ids come from one sequence, so the pair of conditions names
-- exactly these sessions. Returns what it removed, for the row counts.
-- The statement is the body of a WITH, and the rows it returns are read from
-- there: PostgreSQL's SPI checks that a statement with RETURNING returned as many
-- rows as it processed, and on a Citus distributed table that count also holds
-- the rows it skipped, so run bare it fails with "consistency check on SPI tuple
-- count failed" whenever it skips one.
WITH removed AS (
    DELETE FROM user_metrics.sessions AS s
    WHERE s.user_key = ANY ($1::bigint[])
      AND s.id = ANY ($2::bigint[])
    RETURNING s.id
)
SELECT * FROM removed
