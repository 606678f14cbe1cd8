-- $1, $2: the (user key, row id) pairs, element by element, of sessions to
-- delete: those ingest_metrics created for which no event was stored after all
-- (each was a repeat, or refused), so that such events leave nothing behind, or
-- those purge removes with their events. Returns what it removed, for the row
-- counts. Pairs are matched as pairs (see lookup.sql for why);
-- `user_key = ANY ($1)` confines the statement to these users' rows (on Citus,
-- their shards).
DELETE FROM user_metrics.sessions AS s
USING unnest($1::bigint[], $2::bigint[]) AS d (user_key, id)
WHERE s.user_key = ANY ($1::bigint[])
  AND s.user_key = d.user_key AND s.id = d.id
RETURNING s.id
