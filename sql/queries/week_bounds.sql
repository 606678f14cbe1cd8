-- The week before $1: [$1 - 7 days, $1), the days counted in the session's
-- TimeZone as PostgreSQL's interval arithmetic counts them.
SELECT $1::timestamptz - interval '7 days' AS week_start, $1::timestamptz AS week_end
