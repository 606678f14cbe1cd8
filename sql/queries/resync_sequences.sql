-- resync_sequences(): moves the identity sequence of each table of the extension
-- past the largest id the table holds, so that the next id it hands out is free.
-- Rows that arrived by other means than the extension's own inserts (logical
-- replication writes the publisher's ids) leave the sequences behind. A sequence
-- whose next value is already past its table is left where it is.
-- One line per table with an identity column `id` (a client test checks that
-- every identity sequence of the schema is covered).
WITH tables (table_name, max_id) AS (
    VALUES ('user_metrics.events'::regclass, (SELECT max(id) FROM user_metrics.events)),
           ('user_metrics.forgotten_users'::regclass, (SELECT max(id) FROM user_metrics.forgotten_users)),
           ('user_metrics.rejected_events'::regclass, (SELECT max(id) FROM user_metrics.rejected_events)),
           ('user_metrics.sessions'::regclass, (SELECT max(id) FROM user_metrics.sessions))
), sequences AS (
    SELECT t.table_name, t.max_id, s.sequence_name,
           -- NULL while the sequence has handed out no value.
           pg_sequence_last_value(s.sequence_name) AS previous_value,
           sq.seqstart, sq.seqincrement
    FROM tables AS t
    CROSS JOIN LATERAL (SELECT pg_get_serial_sequence(t.table_name::text, 'id')::regclass
                        AS sequence_name) AS s
    JOIN pg_sequence AS sq ON sq.seqrelid = s.sequence_name
)
SELECT s.table_name::text, s.sequence_name::text, s.max_id, s.previous_value,
       CASE
           -- The value nextval() would return next is still taken: move.
           WHEN s.max_id >= coalesce(s.previous_value + s.seqincrement, s.seqstart)
           THEN setval(s.sequence_name, s.max_id)
           ELSE s.previous_value
       END AS new_value
FROM sequences AS s
ORDER BY s.table_name::text
