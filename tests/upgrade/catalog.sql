-- Everything of the extension that a catalog holds, one line per object, in a
-- stable order: two installations with the same output have the same schema.
SELECT kind || ' ' || name || ': ' || coalesce(detail, '') AS line
FROM (
    SELECT 'member' AS kind,
           pg_describe_object(d.classid, d.objid, d.objsubid) AS name,
           NULL AS detail
    FROM pg_depend AS d
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'user_metrics')
  UNION ALL
    -- The library a C function names (probin) is in its definition too; it is
    -- spelled out because each version has a library of its own.
    SELECT 'function', p.oid::regprocedure::text,
           pg_get_functiondef(p.oid) || ' owner=' || p.proowner::regrole || ' acl=' || coalesce(p.proacl::text, '')
           || ' library=' || coalesce(p.probin, '')
    FROM pg_proc AS p WHERE p.pronamespace = 'user_metrics'::regnamespace
  UNION ALL
    SELECT 'relation', c.relname,
           c.relkind::text || ' owner=' || c.relowner::regrole || ' acl=' || coalesce(c.relacl::text, '') || ' options=' || coalesce(c.reloptions::text, '')
           || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
    FROM pg_class AS c WHERE c.relnamespace = 'user_metrics'::regnamespace
  UNION ALL
    SELECT 'column', c.relname || '.' || a.attname,
           -- The column's place among the live ones: a column dropped by an upgrade
           -- leaves a gap in attnum that a fresh table does not have.
           row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)
           || ' ' || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
           || ' identity=' || a.attidentity::text || ' collation=' || coalesce(co.collname, '')
           || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
    FROM pg_attribute AS a
    JOIN pg_class AS c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    LEFT JOIN pg_collation AS co ON co.oid = a.attcollation AND a.attcollation <> 100
    WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'r'
      AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
    SELECT 'constraint', con.conrelid::regclass || '.' || con.conname, pg_get_constraintdef(con.oid)
    FROM pg_constraint AS con WHERE con.connamespace = 'user_metrics'::regnamespace
  UNION ALL
    SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid
    WHERE c.relnamespace = 'user_metrics'::regnamespace
  UNION ALL
    SELECT 'schema', n.nspname, 'owner=' || n.nspowner::regrole || ' acl=' || coalesce(n.nspacl::text, '')
    FROM pg_namespace AS n WHERE n.nspname = 'user_metrics'
  UNION ALL
    SELECT 'extension', e.extname, e.extversion || ' relocatable=' || e.extrelocatable
    FROM pg_extension AS e WHERE e.extname = 'user_metrics'
  UNION ALL
    -- The tables and sequences whose contents pg_dump saves.
    SELECT 'config dump', cfg.relid::regclass::text, 'where=' || cfg.condition
    FROM pg_extension AS e, unnest(e.extconfig, e.extcondition) AS cfg (relid, condition)
    WHERE e.extname = 'user_metrics'
  UNION ALL
    SELECT 'event trigger', t.evtname,
           t.evtevent || ' ' || t.evtfoid::regprocedure::text || ' tags=' || coalesce(t.evttags::text, '')
           || ' enabled=' || t.evtenabled::text || ' superuser_owner=' || r.rolsuper
    FROM pg_event_trigger AS t JOIN pg_roles AS r ON r.oid = t.evtowner
    WHERE t.evtfoid IN (SELECT p.oid FROM pg_proc AS p WHERE p.pronamespace = 'user_metrics'::regnamespace)
) AS objects
ORDER BY kind, name
