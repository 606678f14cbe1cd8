-- $1: keys of the users not found by find_users, sorted, so that concurrent calls
-- take the unique-index locks of new users in the same order (unnest yields the
-- elements in array order, and rows are inserted in that order); $2: their
-- e-mails in canonical form.
-- Returns the users this call created; one that a concurrent call created first is
-- skipped here and found again by find_users.
-- The statement is the body of a WITH, and the rows it returns are read from
-- there: PostgreSQL's SPI checks that a statement with RETURNING returned as many
-- rows as it processed, and on a Citus distributed table that count also holds
-- the rows it skipped, so run bare it fails with "consistency check on SPI tuple
-- count failed" whenever it skips one.
WITH created AS (
    INSERT INTO user_metrics.users (user_key, email)
    SELECT input.user_key, input.email
    FROM unnest($1::bigint[], $2::text[]) AS input (user_key, email)
    ON CONFLICT (user_key) DO NOTHING
    RETURNING user_key
)
SELECT * FROM created
