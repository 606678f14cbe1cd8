#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::error_of;

    /// The DROP EXTENSION guard looks for rows in a fixed list of tables; a table
    /// added to the schema must be added to it, or dropping would lose its rows.
    /// The counters are left out: they only sum the rows of the others; so are the
    /// statistics of the calls.
    #[pg_test]
    fn the_drop_guard_looks_at_every_table_of_the_schema() {
        let guarded = Spi::get_one::<Vec<String>>(concat!(
            "SELECT array_agg(t.table_name ORDER BY t.table_name) FROM (",
            include_str!("../../sql/queries/tables_holding_rows.sql"),
            ") AS t"
        ))
        .unwrap()
        .unwrap();
        let tables = Spi::get_one::<Vec<String>>(
            "SELECT array_agg(c.oid::regclass::text ORDER BY c.oid::regclass::text) FROM pg_class AS c
             WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'r'
               AND c.relname NOT IN ('counters', 'ingest_counters')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(guarded, tables);
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
