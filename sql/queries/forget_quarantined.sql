-- forget_user. $1: the e-mail in canonical form. Deletes every quarantined event
-- whose payload holds that address anywhere, in any case or Unicode form (every
-- string of the JSON, at any depth, the payload itself included when it is a
-- string), whatever the reason it was refused; returns how many.
WITH gone AS (
    DELETE FROM user_metrics.rejected_events AS r
    WHERE EXISTS (SELECT FROM jsonb_path_query(r.payload, 'strict $.**') AS v (value)
                  WHERE jsonb_typeof(v.value) = 'string'
                    AND user_metrics.normalize_email(v.value #>> '{}') = $1::text)
    RETURNING 1
)
SELECT count(*) FROM gone
