-- For the drop guard, at DROP OWNED BY: $1, the roles the statement names. Returns
-- the name of the role that owns the extension's tables (the owner of its
-- counters table, always a member of the extension) if it is among them: DROP
-- OWNED would then drop every table of the schema.
SELECT r.rolname::text AS owner_name
FROM pg_class AS c
JOIN pg_roles AS r ON r.oid = c.relowner
JOIN pg_depend AS d
  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
 AND d.refclassid = 'pg_extension'::regclass
 AND d.refobjid = (SELECT e.oid FROM pg_extension AS e WHERE e.extname = 'user_metrics')
WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relname = 'counters'
  AND c.relowner = ANY ($1::oid[])
