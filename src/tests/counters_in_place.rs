//! A call of one event adds to its backend's counters and statistics rows in
//! place (`sql::update_row`), not with a statement: the counts stay exact, roll
//! back with the call, and honour what a DBA added to those tables (a CHECK, a
//! trigger), as a statement would.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use serde_json::json;

    use crate::sql::update_row;
    use crate::tests::{count, error_of, event, ingest, text};

    /// health()'s counts and today's ingest_stats, as one line.
    fn counts() -> String {
        text(
            "SELECT concat_ws(' ', h->'users', h->'sessions', h->'events', s.calls, s.accepted, s.duplicates)
             FROM user_metrics.health() AS h
             LEFT JOIN user_metrics.ingest_stats AS s ON s.day = (now() AT TIME ZONE 'UTC')::date",
        )
        .unwrap()
    }

    /// The same, counted from the tables (the statistics as the calls below make them).
    fn expected(calls: i64, accepted: i64, duplicates: i64) -> String {
        format!(
            "{} {} {} {calls} {accepted} {duplicates}",
            count("SELECT count(*) FROM user_metrics.users"),
            count("SELECT count(*) FROM user_metrics.sessions"),
            count("SELECT count(*) FROM user_metrics.events"),
        )
    }

    fn empty() {
        Spi::run(
            "TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users,
                      user_metrics.counters, user_metrics.ingest_counters",
        )
        .unwrap();
    }

    #[pg_test]
    fn calls_of_one_event_count_exactly_and_roll_back() {
        empty();
        // The first call inserts the backend's two rows; the others change them.
        ingest(&event("e1", "a@x", "s1", "2026-11-20T10:00:00Z", 1.0));
        ingest(&event("e2", "a@x", "s1", "2026-11-20T10:00:00Z", 2.0));
        ingest(&event("e3", "a@x", "s2", "2026-11-20T10:00:00Z", 3.0));
        ingest(&event("e4", "b@x", "s1", "2026-11-20T10:00:00Z", 4.0));
        ingest(&event("e2", "a@x", "s1", "2026-11-20T10:00:00Z", 2.0));
        assert_eq!(counts(), expected(5, 4, 1));
        assert_eq!(counts(), "2 3 4 5 4 1");
        assert_eq!(
            text("SELECT (last_received_at = now())::text FROM user_metrics.counters").as_deref(),
            Some("true")
        );

        // Rolled back by an error after it in the same subtransaction: nothing counted.
        let call = json!(event("e5", "c@x", "s9", "2026-11-20T10:00:00Z", 1.0)).to_string();
        let rolled_back = error_of(&format!(
            "SELECT 1 / (count(*) - count(*)) FROM (SELECT user_metrics.ingest_metrics('{call}')) AS call"
        ));
        assert_eq!(rolled_back.as_deref(), Some("22012: division by zero"));
        assert_eq!(counts(), "2 3 4 5 4 1");
    }

    #[pg_test]
    fn a_check_added_to_the_statistics_holds() {
        empty();
        Spi::run(
            "ALTER TABLE user_metrics.ingest_counters ADD CONSTRAINT two_calls CHECK (calls <= 2)",
        )
        .unwrap();
        ingest(&event("e1", "a@x", "s1", "2026-11-20T10:00:00Z", 1.0));
        ingest(&event("e2", "a@x", "s1", "2026-11-20T10:00:00Z", 1.0));
        let third = error_of(
            "SELECT user_metrics.ingest_metrics('{\"event_id\": \"e3\", \"user\": {\"email\": \"a@x\"},
                 \"session\": {\"id\": \"s1\", \"started_at\": 0}, \"metrics\": {\"talked_time\": 1}}')",
        );
        assert!(
            third
                .as_deref()
                .is_some_and(|e| e.starts_with("23514:") && e.contains("two_calls")),
            "{third:?}"
        );
        assert_eq!(counts(), expected(2, 2, 0));
    }

    #[pg_test]
    fn a_trigger_on_the_counters_runs_and_the_counts_stay_exact() {
        empty();
        ingest(&event("e1", "a@x", "s1", "2026-11-20T10:00:00Z", 1.0));
        Spi::run(
            "CREATE TEMP TABLE fired (n int);
             GRANT INSERT ON fired TO PUBLIC; -- the trigger runs as the extension's owner
             CREATE FUNCTION pg_temp.note() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN INSERT INTO fired VALUES (1); RETURN NEW; END $$;
             CREATE TRIGGER audit BEFORE UPDATE ON user_metrics.counters
                 FOR EACH ROW EXECUTE FUNCTION pg_temp.note();
             CREATE TRIGGER audit BEFORE UPDATE ON user_metrics.ingest_counters
                 FOR EACH ROW EXECUTE FUNCTION pg_temp.note()",
        )
        .unwrap();
        ingest(&event("e2", "a@x", "s2", "2026-11-20T10:00:00Z", 1.0));
        ingest(&event("e3", "b@x", "s1", "2026-11-20T10:00:00Z", 1.0));
        // Each call updated the two rows by the statement, which ran the triggers.
        assert_eq!(count("SELECT count(*) FROM fired"), 4);
        assert_eq!(counts(), expected(3, 3, 0));
        assert_eq!(counts(), "2 3 3 3 3 0");
    }

    #[pg_test]
    fn update_row_changes_the_row_or_declines() {
        Spi::run("INSERT INTO user_metrics.counters (slot, events) VALUES (-7, 5)").unwrap();
        let add_two = |slot: i32| {
            update_row(
                c"user_metrics",
                c"counters",
                &[("slot", slot.into())],
                |row| {
                    let events = row.bigint("events")?;
                    row.set_bigint("events", events + 2)
                },
            )
            .unwrap()
        };
        assert!(add_two(-7));
        assert!(add_two(-7));
        assert_eq!(
            count("SELECT events FROM user_metrics.counters WHERE slot = -7"),
            9
        );
        // No such row: nothing to change.
        assert!(!add_two(-8));
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.counters WHERE slot = -8"),
            0
        );
        // A table without a primary key is left to a statement.
        Spi::run(
            "CREATE TABLE user_metrics.no_key (slot integer, events bigint);
             INSERT INTO user_metrics.no_key VALUES (-7, 5)",
        )
        .unwrap();
        let no_key = update_row(
            c"user_metrics",
            c"no_key",
            &[("slot", (-7).into())],
            |row| row.set_bigint("events", 0),
        );
        assert!(!no_key.unwrap());
        assert_eq!(count("SELECT events FROM user_metrics.no_key"), 5);
        // A table with a trigger is left to a statement.
        Spi::run(
            "CREATE FUNCTION pg_temp.keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
             CREATE TRIGGER keep BEFORE UPDATE ON user_metrics.counters
                 FOR EACH ROW EXECUTE FUNCTION pg_temp.keep()",
        )
        .unwrap();
        assert!(!add_two(-7));
        assert_eq!(
            count("SELECT events FROM user_metrics.counters WHERE slot = -7"),
            9
        );
        // A column that is not there, or not of the type asked for, is an error.
        Spi::run("DROP TRIGGER keep ON user_metrics.counters").unwrap();
        let wrong = update_row(
            c"user_metrics",
            c"counters",
            &[("slot", (-7).into())],
            |row| row.bigint("last_received_at").map(|_| ()),
        );
        assert!(wrong.is_err());
        assert_eq!(
            count("SELECT events FROM user_metrics.counters WHERE slot = -7"),
            9
        );
    }
}
