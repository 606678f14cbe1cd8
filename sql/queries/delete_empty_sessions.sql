-- $1: sessions this call created for which no event was stored after all (each
-- was a repeat, or refused), so that such events leave nothing behind. Returns
-- what it removed, for the row counts.
DELETE FROM user_metrics.sessions AS s
WHERE s.id = ANY ($1::bigint[])
RETURNING s.id
