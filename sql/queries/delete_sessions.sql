-- $1: user keys; $2: row ids of sessions to delete: those ingest_metrics created
-- for which no event was stored after all (each was a repeat, or refused), so
-- that such events leave nothing behind, or those purge removes with their
-- events. Row ids come from one sequence, so the pair of conditions names exactly
-- these sessions. Returns what it removed, for the row counts.
DELETE FROM user_metrics.sessions AS s
WHERE s.user_key = ANY ($1::bigint[])
  AND s.id = ANY ($2::bigint[])
RETURNING s.id
