#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use serde_json::json;

    use crate::tests::{count, error_of, event, ingest, text};

    /// The data set the expected numbers below are worked out from.
    ///
    /// | session | user | started (UTC)    | events: talked time        | in week ending 11-23 00:00 |
    /// |---------|------|------------------|----------------------------|----------------------------|
    /// | s1      | ana  | 11-16 09:00      | 100 + 50.5 (2 events)      | yes (first day)            |
    /// | s2      | ana  | 11-20 10:00      | 200                        | yes                        |
    /// | s3      | bob  | 11-18 12:00      | 300                        | yes                        |
    /// | s4      | bob  | 11-08 08:00      | 1000                       | no (week before)           |
    /// | s5      | cid  | 11-23 00:00      | 42                         | no (the end is excluded)   |
    /// | s6      | dee  | 11-15 23:59:59   | 7                          | no (a second too early)    |
    fn load() {
        Spi::run("SET TimeZone = 'UTC'").unwrap();
        let mut s1a = event(
            "s1-a",
            "Ana@Example.com",
            "s1",
            "2026-11-16T00:00:00Z",
            100.0,
        );
        s1a["user"]["name"] = json!("Ana Lima");
        s1a["session"]["started_at"] = json!("2026-11-16T09:00:00Z");
        s1a["session"]["ended_at"] = json!("2026-11-16T09:20:00Z");
        s1a["session"]["device"] = json!({"id": "mbp-7", "type": "desktop", "screen": "14in"});
        s1a["metrics"]["microphone_used"] = json!(true);
        s1a["metrics"]["voice_sentiment"] = json!(0.5);
        let mut s1b = event(
            "s1-b",
            "ana@example.com",
            "s1",
            "2026-11-16T09:10:00Z",
            50.5,
        );
        s1b["session"]["ended_at"] = json!("2026-11-16T09:30:00Z");
        s1b["metrics"]["microphone_used"] = json!(false);
        s1b["metrics"]["voice_sentiment"] = json!(-0.25);
        let mut s3 = event(
            "s3-a",
            "bob@example.com",
            "s3",
            "2026-11-18T12:00:00Z",
            300.0,
        );
        s3["user"]["name"] = json!("Bob");
        let summary = ingest(&json!([
            s1a,
            s1b,
            event(
                "s2-a",
                "ana@example.com",
                "s2",
                "2026-11-20T10:00:00Z",
                200.0
            ),
            s3,
            event(
                "s4-a",
                "BOB@example.com",
                "s4",
                "2026-11-08T08:00:00Z",
                1000.0
            ),
            event(
                "s5-a",
                "cid@example.com",
                "s5",
                "2026-11-23T00:00:00Z",
                42.0
            ),
            event("s6-a", "dee@example.com", "s6", "2026-11-15T23:59:59Z", 7.0),
        ]));
        assert_eq!(summary["accepted"], json!(7));
    }

    fn rows(sql: &str) -> String {
        text(&format!(
            "SELECT string_agg(r::text, ' ' ORDER BY n) FROM (SELECT r, row_number() OVER () AS n FROM ({sql}) AS r) AS numbered"
        ))
        .unwrap_or_default()
    }

    #[pg_test]
    fn aggregate_user_metrics_over_everything() {
        load();
        assert_eq!(
            rows("SELECT * FROM user_metrics.aggregate_user_metrics()"),
            "(ana@example.com,\"Ana Lima\",350.5,2) (bob@example.com,Bob,1300.0,2) \
             (cid@example.com,,42.0,1) (dee@example.com,,7.0,1)"
        );
    }

    #[pg_test]
    fn aggregate_user_metrics_over_a_range_and_one_user() {
        load();
        assert_eq!(
            rows("SELECT * FROM user_metrics.aggregate_user_metrics(since => '2026-11-16', until => '2026-11-23')"),
            "(ana@example.com,\"Ana Lima\",350.5,2) (bob@example.com,Bob,300.0,1)"
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.aggregate_user_metrics('BOB@EXAMPLE.COM')"),
            "(bob@example.com,Bob,1300.0,2)"
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.aggregate_user_metrics('bob@example.com', until => '2026-11-10')"),
            "(bob@example.com,Bob,1000.0,1)"
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.aggregate_user_metrics(since => '2026-11-23')"),
            "(cid@example.com,,42.0,1)"
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.aggregate_user_metrics('nobody@example.com')"),
            ""
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.aggregate_user_metrics(since => '2030-01-01')"),
            ""
        );
    }

    #[pg_test]
    fn session_details_of_a_known_and_an_unknown_session() {
        load();
        assert_eq!(
            rows("SELECT * FROM user_metrics.get_session_details('s1')"),
            "(s1,ana@example.com,\"Ana Lima\",\"2026-11-16 09:00:00+00\",\"2026-11-16 09:30:00+00\",1800,\
             \"{\"\"id\"\": \"\"mbp-7\"\", \"\"type\"\": \"\"desktop\"\", \"\"screen\"\": \"\"14in\"\"}\",\
             150.5,2,t,,0.125)"
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.get_session_details('s2')"),
            "(s2,ana@example.com,\"Ana Lima\",\"2026-11-20 10:00:00+00\",,,,200.0,1,,,)"
        );
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.get_session_details('nope')"),
            0
        );
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.get_session_details(NULL)"),
            0
        );
    }

    #[pg_test]
    fn weekly_report_counts_the_seven_days_before_week_end() {
        load();
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')"),
            "(ana@example.com,\"Ana Lima\",2,350.5,\"2026-11-20 10:00:00+00\") \
             (bob@example.com,Bob,1,300.0,\"2026-11-18 12:00:00+00\")"
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_weekly_report('2026-11-16T00:00:00Z')"),
            "(dee@example.com,,1,7.0,\"2026-11-15 23:59:59+00\")"
        );
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_weekly_report('2026-11-09T08:00:00Z')"),
            "(bob@example.com,Bob,1,1000.0,\"2026-11-08 08:00:00+00\")"
        );
        // With no argument the week ends now.
        ingest(&json!([event(
            "now-1",
            "eve@example.com",
            "s-now",
            "2000-01-01T00:00:00Z",
            5.0
        )]));
        Spi::run("UPDATE user_metrics.sessions SET started_at = now() - interval '1 hour' WHERE client_session_id = 's-now'").unwrap();
        assert_eq!(
            rows("SELECT email, session_count, total_talked_time FROM user_metrics.generate_weekly_report()"),
            rows("SELECT email, session_count, total_talked_time FROM user_metrics.generate_weekly_report(now())")
        );
        assert!(
            rows("SELECT email FROM user_metrics.generate_weekly_report()")
                .contains("eve@example.com")
        );
    }

    #[pg_test]
    fn weekly_report_breaks_ties_by_email() {
        ingest(&json!([
            event("b", "b@x", "sb", "2026-11-20T00:00:00Z", 10.0),
            event("a", "a@x", "sa", "2026-11-21T00:00:00Z", 10.0),
            event("c", "c@x", "sc", "2026-11-22T00:00:00Z", 20.0),
        ]));
        assert_eq!(
            count(
                "SELECT count(*) FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')"
            ),
            3
        );
        assert_eq!(
            text("SELECT string_agg(email, ',') FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')")
            .as_deref(),
            Some("c@x,a@x,b@x")
        );
    }

    #[pg_test]
    fn health_reports_status_version_and_counts() {
        load();
        let health = Spi::get_one::<pgrx::JsonB>("SELECT user_metrics.health()")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(health["status"], json!("ok"));
        assert_eq!(health["version"], json!(env!("CARGO_PKG_VERSION")));
        let server = text("SELECT current_setting('server_version')");
        assert_eq!(health["postgres"].as_str(), server.as_deref());
        for key in ["users", "sessions", "events", "rejected"] {
            assert!(health[key].is_i64(), "{key} in {health}");
        }
        assert!(health["last_received_at"].is_string(), "{health}");
    }

    #[pg_test]
    fn activity_report_per_day_lists_every_day_of_the_range() {
        load();
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_activity_report('2026-11-15', '2026-11-18', 'UTC')"),
            "(2026-11-15,1,1,7.0) (2026-11-16,1,1,150.5) (2026-11-17,0,0,0) (2026-11-18,1,1,300.0)"
        );
        // One day.
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_activity_report('2026-11-20', '2026-11-20', 'UTC', 'day')"),
            "(2026-11-20,1,1,200.0)"
        );
    }

    #[pg_test]
    fn activity_report_counts_days_of_the_time_zone() {
        load();
        // Tokyo is 9 hours ahead: dee's session (11-15 23:59:59 UTC) falls on the
        // 16th there, beside ana's.
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_activity_report('2026-11-15', '2026-11-16', 'Asia/Tokyo')"),
            "(2026-11-15,0,0,0) (2026-11-16,2,2,157.5)"
        );
        // New York is 5 hours behind: cid's session (11-23 00:00 UTC) is on the 22nd.
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_activity_report('2026-11-22', '2026-11-23', 'America/New_York')"),
            "(2026-11-22,1,1,42.0) (2026-11-23,0,0,0)"
        );
        // Whatever the session's own TimeZone.
        Spi::run("SET TimeZone = 'Pacific/Auckland'").unwrap();
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_activity_report('2026-11-22', '2026-11-23', 'America/New_York')"),
            "(2026-11-22,1,1,42.0) (2026-11-23,0,0,0)"
        );
    }

    #[pg_test]
    fn activity_report_per_week_from_monday() {
        load();
        // 2026-11-01 is a Sunday: its week starts on 10-26; 11-30 is a Monday.
        assert_eq!(
            rows("SELECT * FROM user_metrics.generate_activity_report('2026-11-01', '2026-11-30', 'UTC', 'week')"),
            "(2026-10-26,0,0,0) (2026-11-02,1,1,1000.0) (2026-11-09,1,1,7.0) \
             (2026-11-16,3,2,650.5) (2026-11-23,1,1,42.0) (2026-11-30,0,0,0)"
        );
    }

    #[pg_test]
    fn activity_report_refuses_what_it_cannot_answer() {
        for (sql, error) in [
            (
                "generate_activity_report('2026-11-01', '2026-11-30', 'UTC', 'month')",
                "22023: per must be 'day' or 'week', got 'month'",
            ),
            (
                "generate_activity_report('2026-11-30', '2026-11-01', 'UTC')",
                "22023: last_day must not be before first_day",
            ),
            (
                "generate_activity_report('2000-01-01', '2026-11-01', 'UTC')",
                "22023: the range spans 9802 days, more than 3660",
            ),
            (
                "generate_activity_report('2026-11-01', 'infinity', 'UTC')",
                "22023: first_day and last_day must be finite dates",
            ),
            (
                "generate_activity_report('2026-11-01', '2026-11-02', 'Mars/Olympus')",
                "22023: time zone \"Mars/Olympus\" not recognized",
            ),
            (
                "generate_activity_report(NULL, '2026-11-02', 'UTC')",
                "22004: first_day must not be NULL",
            ),
            (
                "generate_activity_report('2026-11-01', '2026-11-02', NULL)",
                "22004: tz must not be NULL",
            ),
            (
                "generate_activity_report('2026-11-01', '2026-11-02', 'UTC', NULL)",
                "22004: per must not be NULL",
            ),
        ] {
            assert_eq!(
                error_of(&format!("SELECT * FROM user_metrics.{sql}")).as_deref(),
                Some(error),
                "{sql}"
            );
        }
    }

    #[pg_test]
    fn user_sessions_of_one_user_by_start() {
        load();
        assert_eq!(
            rows("SELECT session_id, email, started_at, talked_time, event_count FROM user_metrics.get_user_sessions('ANA@Example.com')"),
            "(s1,ana@example.com,\"2026-11-16 09:00:00+00\",150.5,2) (s2,ana@example.com,\"2026-11-20 10:00:00+00\",200.0,1)"
        );
        // The same rows as get_session_details gives for each.
        assert_eq!(
            rows("SELECT * FROM user_metrics.get_user_sessions('ana@example.com', until => '2026-11-20')"),
            rows("SELECT * FROM user_metrics.get_session_details('s1', 'ana@example.com')")
        );
        assert_eq!(
            rows("SELECT session_id FROM user_metrics.get_user_sessions('bob@example.com', '2026-11-10', '2026-11-30')"),
            "(s3)"
        );
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.get_user_sessions('nobody@example.com')"),
            0
        );
        assert_eq!(
            error_of("SELECT * FROM user_metrics.get_user_sessions(NULL)").as_deref(),
            Some("22004: email must not be NULL")
        );
    }
}
