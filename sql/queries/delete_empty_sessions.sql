-- $1: sessions this call created. Removes those that ended up with no stored event
-- (every event of theirs was a repeat), so a repeat changes nothing.
DELETE FROM user_metrics.sessions AS s
WHERE s.id = ANY ($1::bigint[]) AND s.event_count = 0
