-- The users of a batch that change, in one statement; run only when some do.
-- $1, $2, $3: the users to create (key, e-mail in canonical form, the latest
-- non-empty name of the events to store, or NULL), sorted by key; one that a
-- concurrent call created first is skipped here (the caller looks it up again).
-- $4, $5: the users to rename (key, new name), sorted by key: only those whose
-- stored name differs, and only rows whose name changes are written.
-- $6: whether the server runs Citus (see lookup_citus.sql for why it matters).
-- Returns ('created', key) and ('renamed', key) for what it did. With no user to
-- rename, the UPDATE reaches no row (and on Citus no shard: see lookup_citus.sql).
-- Locks, always in this order: the new users' unique-index entries, then the
-- renamed users' rows, each by key, so two calls cannot deadlock here (the UNION
-- ALL below reads `created` to its end before `renamed` starts). Changing no key,
-- the UPDATE takes a NO KEY UPDATE lock, which does not conflict with the
-- key-share locks that concurrent inserts of sessions take on their user through
-- the foreign key: inserts do not wait for a rename. (No SELECT ... FOR UPDATE:
-- Citus refuses it across shards.)
-- The statements are bodies of WITHs, and their rows are read from there:
-- PostgreSQL's SPI checks that a statement with RETURNING returned as many rows
-- as it processed, and on a Citus distributed table that count also holds the
-- rows it skipped, so run bare it fails with "consistency check on SPI tuple
-- count failed" whenever it skips one.
WITH created AS (
    INSERT INTO user_metrics.users (user_key, email, name)
    SELECT n.user_key, n.email, n.name
    FROM unnest($1::bigint[], $2::text[], $3::text[]) AS n (user_key, email, name)
    ON CONFLICT (user_key) DO NOTHING
    RETURNING user_key
),
renamed AS (
    UPDATE user_metrics.users AS u SET name = r.name
    FROM unnest($4::bigint[], $5::text[]) AS r (user_key, name)
    WHERE cardinality($4::bigint[]) > 0 AND (NOT $6::boolean OR u.user_key = ANY ($4::bigint[]))
      AND u.user_key = r.user_key
      AND u.name IS DISTINCT FROM r.name
    RETURNING u.user_key
)
SELECT 'created' AS change, c.user_key FROM created AS c
UNION ALL
SELECT 'renamed', r.user_key FROM renamed AS r
