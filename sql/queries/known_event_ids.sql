-- $1: the batch's event ids. Returns those already stored: repeats, found before
-- any row is written so that they take no part in the sessions' totals.
SELECT e.event_id
FROM user_metrics.events AS e
WHERE e.event_id = ANY ($1::text[])
