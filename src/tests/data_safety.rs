//! What must hold for the data whatever the clients send: no event can fail a call
//! in quarantine mode, one person is one user, totals are exact whatever the
//! order, and health() counts exactly.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{json, Value};
    use user_metrics_contract::generate::{any_json, long_email_event, mutated_event, valid_event};

    use crate::tests::{count, event, ingest, ingest_with};

    fn text(sql: &str) -> String {
        crate::tests::text(sql).unwrap_or_default()
    }

    /// Every table constraint holds for every event the contract accepts: generated
    /// batches (valid, broken, any JSON, addresses around the length limit) go
    /// through ingest_metrics in quarantine mode, and no call may fail.
    #[pg_test]
    fn no_event_the_contract_accepts_can_fail_a_call() {
        let batch = prop::collection::vec(
            prop_oneof![
                4 => valid_event(),
                3 => long_email_event(),
                2 => mutated_event(),
                1 => any_json(),
            ],
            1..12,
        );
        let mut runner = TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        });
        let accepted_total = std::cell::Cell::new(0);
        runner
            .run(&batch, |events| {
                // jsonb cannot hold U+0000, so such text never reaches the contract.
                let events: Vec<Value> = events
                    .into_iter()
                    .filter(|e| !e.to_string().contains("\\u0000"))
                    .collect();
                let summary = ingest(&Value::Array(events.clone()));
                let total = summary["accepted"].as_u64().unwrap()
                    + summary["duplicates"].as_u64().unwrap()
                    + summary["rejected"].as_u64().unwrap();
                prop_assert_eq!(total, events.len() as u64, "{}", summary);
                accepted_total.set(accepted_total.get() + summary["accepted"].as_u64().unwrap());
                Ok(())
            })
            .unwrap();
        assert!(
            accepted_total.get() > 100,
            "the generators produce valid events"
        );
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.users WHERE length(email) > 254"),
            0
        );
    }

    /// 240 × İ plus "@example.com" is 252 characters as sent and 492 once
    /// case-folded: it is refused on its own, and the rest of the batch is stored.
    #[pg_test]
    fn an_address_too_long_once_normalized_is_refused_alone() {
        let poison = event(
            "p1",
            &format!("{}@example.com", "İ".repeat(240)),
            "s-poison",
            "2026-11-20T10:00:00Z",
            1.0,
        );
        let fine = event(
            "f1",
            "ana@example.com",
            "s-fine",
            "2026-11-20T10:00:00Z",
            2.0,
        );
        let summary = ingest(&json!([poison, fine]));
        assert_eq!(summary["accepted"], 1);
        assert_eq!(summary["rejected"], 1);
        assert_eq!(summary["errors"][0]["code"], "invalid_value");
        assert_eq!(
            summary["errors"][0]["message"],
            "user.email: expected at most 254 characters once case-folded and normalized, got 492"
        );
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.rejected_events"),
            1
        );
    }

    /// zoë in NFC and in NFD, and ΟΔΟΣ / οδος (final sigma), are one person each:
    /// their events share one user and one session.
    #[pg_test]
    fn one_person_is_one_user_in_any_case_and_normal_form() {
        let pairs = [
            ("zo\u{eb}@example.com", "ZOE\u{308}@Example.com"),
            ("ΟΔΟΣ@example.gr", "οδος@example.gr"),
        ];
        for (n, (first, second)) in pairs.iter().enumerate() {
            let session = format!("s{n}");
            let summary = ingest(&json!([
                event(
                    &format!("{n}-a"),
                    first,
                    &session,
                    "2026-11-20T10:00:00Z",
                    1.0
                ),
                event(
                    &format!("{n}-b"),
                    second,
                    &session,
                    "2026-11-20T10:05:00Z",
                    2.0
                ),
            ]));
            assert_eq!(summary["accepted"], 2, "{first} / {second}: {summary}");
        }
        assert_eq!(count("SELECT count(*) FROM user_metrics.users"), 2);
        assert_eq!(
            text("SELECT string_agg(email, ' ' ORDER BY email) FROM user_metrics.users"),
            "zo\u{eb}@example.com οδοσ@example.gr"
        );
        // The reports find the user by any form of the address.
        assert_eq!(
            text("SELECT total_talked_time::text FROM user_metrics.aggregate_user_metrics('ZOË@EXAMPLE.COM')"),
            "3.0"
        );
        assert_eq!(
            text("SELECT user_metrics.normalize_email('Ο\u{394}ΟΣ@example.gr')"),
            "οδοσ@example.gr"
        );
    }

    /// The same events, sent in opposite orders and one call each, give the same
    /// digits; physical reordering (CLUSTER) changes nothing; equal totals are
    /// ordered by e-mail.
    #[pg_test]
    fn totals_are_exact_whatever_the_order() {
        Spi::run("SET TimeZone = 'UTC'").unwrap();
        let times = ["0.1", "0.2", "0.3", "5444.099999999", "1e-3"];
        for (user, order) in [("b@x.io", false), ("a@x.io", true)] {
            let mut list: Vec<&str> = times.to_vec();
            if order {
                list.reverse();
            }
            for (i, t) in list.iter().enumerate() {
                let mut e = event(
                    &format!("{user}-{i}"),
                    user,
                    &format!("s-{user}"),
                    "2026-11-20T10:00:00Z",
                    0.0,
                );
                e["metrics"]["talked_time"] = serde_json::from_str(t).unwrap();
                e["metrics"]["voice_sentiment"] = serde_json::from_str("0.1").unwrap();
                ingest(&e);
            }
        }
        let weekly = "SELECT string_agg(email || '=' || total_talked_time, ' ')
                      FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')";
        assert_eq!(text(weekly), "a@x.io=5444.700999999 b@x.io=5444.700999999");
        assert_eq!(
            text("SELECT string_agg(sentiment_sum::text, ' ') FROM user_metrics.sessions"),
            "0.5 0.5"
        );
        Spi::run("CLUSTER user_metrics.events USING events_event_id_key").unwrap();
        Spi::run("CLUSTER user_metrics.sessions USING sessions_client_session_id_key").unwrap();
        assert_eq!(text(weekly), "a@x.io=5444.700999999 b@x.io=5444.700999999");
        assert_eq!(
            text("SELECT string_agg(total_talked_time::text, ' ') FROM user_metrics.aggregate_user_metrics()"),
            "5444.700999999 5444.700999999"
        );
    }

    /// health() counts exactly what the tables hold, after stores, duplicates,
    /// rejections, replays, discards and a rolled-back call.
    #[pg_test]
    fn health_counts_are_exact() {
        let health_counts = || {
            text(
                "SELECT concat_ws(' ', h->'users', h->'sessions', h->'events', h->'rejected')
                 FROM user_metrics.health() AS h",
            )
        };
        let table_counts = || {
            text(
                "SELECT concat_ws(' ',
                    (SELECT count(*) FROM user_metrics.users),
                    (SELECT count(*) FROM user_metrics.sessions),
                    (SELECT count(*) FROM user_metrics.events),
                    (SELECT count(*) FROM user_metrics.rejected_events))",
            )
        };
        let batch = json!([
            event("e1", "a@x", "s1", "2026-11-20T10:00:00Z", 1.0),
            event("e2", "a@x", "s1", "2026-11-20T10:00:00Z", 1.0),
            event("e3", "b@x", "s2", "2026-11-20T10:00:00Z", 1.0),
            event("e4", "c@x", "s1", "2026-11-20T10:00:00Z", 1.0),
            {"event_id": "bad"},
        ]);
        ingest(&batch);
        ingest(&batch);
        // c@x's s1 is a session of its own; the bad event is quarantined once, its
        // two arrivals counted on its row.
        assert_eq!(health_counts(), "3 3 4 1");
        assert_eq!(health_counts(), table_counts());
        assert_eq!(
            text("SELECT times_received::text FROM user_metrics.rejected_events"),
            "2"
        );

        // A call that is rolled back (here by an error after it, in the same
        // subtransaction) counts nothing.
        let rolled_back = crate::tests::error_of(
            "SELECT 1 / (count(*) - count(*)) FROM (SELECT user_metrics.ingest_metrics(
                 '[{\"event_id\": \"e9\", \"user\": {\"email\": \"z@x\"},
                    \"session\": {\"id\": \"s9\", \"started_at\": 0},
                    \"metrics\": {\"talked_time\": 1}}, {\"x\": 1}]')) AS call",
        );
        assert_eq!(rolled_back.as_deref(), Some("22012: division by zero"));
        assert_eq!(health_counts(), table_counts());

        // Raise mode stores nothing and counts nothing.
        assert!(crate::tests::error_of(
            "SELECT user_metrics.ingest_metrics('[{\"x\": 1}]', 'raise')"
        )
        .is_some());
        assert_eq!(health_counts(), table_counts());

        let ids = text("SELECT array_agg(id ORDER BY id)::text FROM user_metrics.rejected_events");
        Spi::run(&format!("SELECT user_metrics.replay_rejected('{ids}')")).unwrap();
        assert_eq!(health_counts(), table_counts());
        Spi::run(&format!("SELECT user_metrics.discard_rejected('{ids}')")).unwrap();
        assert_eq!(health_counts(), table_counts());
        assert_eq!(health_counts(), "3 3 4 0");
        let _ = ingest_with(&json!([]), "quarantine");
        assert_eq!(health_counts(), table_counts());
    }
}
