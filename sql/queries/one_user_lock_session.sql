-- On Citus, a call of one event in an existing session: the session row-locked
-- before the event is inserted, as store.sql locks every session of a batch
-- first, so that the two paths take their locks in one order. $1: the user key;
-- $2: the session's row id. No row: the session is gone (erased or purged since).
SELECT s.id
FROM user_metrics.sessions AS s
WHERE s.user_key = $1::bigint AND s.id = $2::bigint
FOR NO KEY UPDATE
