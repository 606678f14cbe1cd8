#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::error_of;

    /// The tables the guard probes, as `table=probe`: those DROP EXTENSION would
    /// drop (`members_only`) or every table of the schema, or of `only` those.
    fn probed(members_only: bool, only: Option<Vec<pg_sys::Oid>>) -> Vec<String> {
        Spi::get_one_with_args::<Vec<String>>(
            concat!(
                "SELECT coalesce(array_agg(t.table_name || '=' || t.probe ORDER BY t.table_name), '{}') FROM (",
                include_str!("../../sql/queries/tables_holding_rows.sql"),
                ") AS t"
            ),
            &[members_only.into(), only.into()],
        )
        .unwrap()
        .unwrap()
    }

    fn names(probed: Vec<String>) -> Vec<String> {
        probed
            .into_iter()
            .map(|t| t.split('=').next().unwrap().to_string())
            .collect()
    }

    /// The drop guard looks for rows in every table of a fresh installation, a
    /// table added to the schema included: dropping must not lose its rows. The
    /// counters are left out: they only sum the rows of the others; so are the
    /// statistics of the calls.
    #[pg_test]
    fn the_drop_guard_looks_at_every_table_of_the_schema() {
        let guarded = names(probed(true, None));
        let tables = Spi::get_one::<Vec<String>>(
            "SELECT array_agg(c.oid::regclass::text ORDER BY c.oid::regclass::text) FROM pg_class AS c
             WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'r'
               AND c.relname NOT IN ('counters', 'ingest_counters')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(guarded, tables);
        assert_eq!(names(probed(false, None)), tables);
    }

    /// The guard looks at what DROP EXTENSION would drop, the extension's member
    /// tables: not at a table of the schema that is not one (on a Citus
    /// coordinator, the distributed tables, which the guard refuses otherwise),
    /// and it does not need the tables that are gone (dropped before the
    /// extension). Each probe says whether its table holds a row.
    #[pg_test]
    fn the_drop_guard_probes_the_member_tables_only() {
        let listed = || probed(true, None);
        let before = listed();
        Spi::run("CREATE TABLE user_metrics.not_a_member (x int)").unwrap();
        assert_eq!(listed(), before);
        // DROP SCHEMA and DROP OWNED would drop it too; DROP TABLE the tables named.
        assert!(names(probed(false, None)).contains(&"user_metrics.not_a_member".to_string()));
        let not_a_member =
            Spi::get_one::<pg_sys::Oid>("SELECT 'user_metrics.not_a_member'::regclass::oid")
                .unwrap()
                .unwrap();
        assert_eq!(
            names(probed(false, Some(vec![not_a_member]))),
            ["user_metrics.not_a_member"]
        );
        Spi::run("ALTER EXTENSION user_metrics DROP TABLE user_metrics.events").unwrap();
        Spi::run("ALTER EXTENSION user_metrics DROP SEQUENCE user_metrics.events_id_seq").unwrap();
        Spi::run("DROP TABLE user_metrics.events").unwrap();
        let after = listed();
        assert_eq!(after.len(), before.len() - 1);
        assert!(after.iter().all(|t| !t.starts_with("user_metrics.events=")));
        assert!(after.contains(
            &"user_metrics.rejected_events=SELECT EXISTS (SELECT 1 FROM user_metrics.rejected_events)"
                .to_string()
        ));
        assert_eq!(
            Spi::get_one::<bool>("SELECT EXISTS (SELECT FROM user_metrics.rejected_events)"),
            Ok(Some(false))
        );
    }

    /// The event trigger's function reads the event trigger's data; called any
    /// other way it refuses instead of reading what is not there.
    #[pg_test]
    fn the_drop_guard_refuses_a_direct_call() {
        assert_eq!(
            error_of("SELECT user_metrics.drop_guard()").as_deref(),
            Some("39P01: user_metrics.drop_guard() can only be called as an event trigger")
        );
    }
}
