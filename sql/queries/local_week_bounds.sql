-- The seven calendar days before the date $1 in the time zone $2, from local
-- midnight to local midnight, whatever the session's TimeZone: 167 or 169 hours
-- long when the clocks change in that week. An unknown zone raises 22023.
SELECT ($1::date - 7)::timestamp AT TIME ZONE $2::text AS week_start,
       $1::date::timestamp AT TIME ZONE $2::text AS week_end
