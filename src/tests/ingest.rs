#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use serde_json::json;

    use crate::tests::{count, error_of, event, ingest, ingest_with, text};

    #[pg_test]
    fn one_event_is_stored_normalized() {
        let summary = ingest(&json!({
            "event_id": "c0a8-0001",
            "recorded_at": "2026-11-23T09:15:00Z",
            "user": { "email": "Ana@Example.com", "name": "Ana Lima" },
            "session": {
                "id": "s-1001",
                "started_at": "2026-11-23T09:00:00Z",
                "ended_at": "2026-11-23T10:40:00+01:00",
                "device": { "id": "mbp-7", "type": "desktop", "os": "macOS 15.1", "extra": [1, 2] }
            },
            "metrics": { "talked_time": 312.5, "microphone_used": true, "speaker_used": false, "voice_sentiment": 0.42 }
        }));
        assert_eq!(
            summary,
            json!({"accepted": 1, "duplicates": 0, "rejected": 0, "errors": []})
        );
        let (email, name) =
            Spi::get_two::<String, String>("SELECT email, name FROM user_metrics.users").unwrap();
        assert_eq!(email.as_deref(), Some("ana@example.com"));
        assert_eq!(name.as_deref(), Some("Ana Lima"));
        let row = Spi::get_one::<String>(
            "SELECT concat_ws('|', client_session_id, started_at AT TIME ZONE 'UTC',
                    ended_at AT TIME ZONE 'UTC', device->>'os', device->'extra',
                    event_count, talked_time, microphone_used, speaker_used,
                    sentiment_sum, sentiment_count)
             FROM user_metrics.sessions",
        )
        .unwrap();
        assert_eq!(
            row.as_deref(),
            Some("s-1001|2026-11-23 09:00:00|2026-11-23 09:40:00|macOS 15.1|[1, 2]|1|312.5|t|f|0.42|1")
        );
        let event_row = Spi::get_one::<String>(
            "SELECT concat_ws('|', event_id, recorded_at AT TIME ZONE 'UTC', talked_time,
                    microphone_used, speaker_used, voice_sentiment)
             FROM user_metrics.events",
        )
        .unwrap();
        assert_eq!(
            event_row.as_deref(),
            Some("c0a8-0001|2026-11-23 09:15:00|312.5|t|f|0.42")
        );
    }

    #[pg_test]
    fn recorded_at_defaults_to_the_time_of_ingestion() {
        ingest(&event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0));
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.events WHERE recorded_at = now() AND received_at = now()"),
            1
        );
    }

    #[pg_test]
    fn an_empty_array_stores_nothing() {
        assert_eq!(
            ingest(&json!([])),
            json!({"accepted": 0, "duplicates": 0, "rejected": 0, "errors": []})
        );
        assert_eq!(count("SELECT count(*) FROM user_metrics.users"), 0);
    }

    #[pg_test]
    fn a_repeated_event_id_is_a_duplicate_and_changes_nothing() {
        let e = event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 10.0);
        let first = ingest(&json!([e, e]));
        assert_eq!(
            (first["accepted"].clone(), first["duplicates"].clone()),
            (json!(1), json!(1))
        );
        let again = ingest(&e);
        assert_eq!(
            (again["accepted"].clone(), again["duplicates"].clone()),
            (json!(0), json!(1))
        );
        // The same id with other content is still the same event.
        let changed = event("e1", "a@x", "s1", "2026-11-23T08:00:00Z", 99.0);
        assert_eq!(ingest(&changed)["duplicates"], json!(1));
        assert_eq!(count("SELECT count(*) FROM user_metrics.events"), 1);
        assert_eq!(
            count("SELECT event_count * 1000 + talked_time::bigint FROM user_metrics.sessions"),
            1010
        );
        assert_eq!(
            text("SELECT (started_at AT TIME ZONE 'UTC')::text FROM user_metrics.sessions")
                .as_deref(),
            Some("2026-11-23 09:00:00")
        );
    }

    #[pg_test]
    fn a_repeat_of_an_event_for_a_new_session_leaves_no_session_behind() {
        ingest(&event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 10.0));
        // The same user's event_id again, naming a session that does not exist yet,
        // in a batch with another user's event that is a repeat only in this batch.
        let summary = ingest(&json!([
            event("e1", "a@x", "s-new", "2026-11-23T09:00:00Z", 10.0),
            event("e2", "new@x", "s-new", "2026-11-23T09:00:00Z", 1.0),
            event("e2", "new@x", "s-other", "2026-11-23T09:00:00Z", 1.0),
        ]));
        assert_eq!(
            (&summary["accepted"], &summary["duplicates"]),
            (&json!(1), &json!(2))
        );
        assert_eq!(count("SELECT count(*) FROM user_metrics.sessions"), 2);
        assert_eq!(count("SELECT count(*) FROM user_metrics.users"), 2);
    }

    #[pg_test]
    fn a_new_session_holds_only_the_totals_of_its_stored_events() {
        ingest(&event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 10.0));
        // e1 again, now in a new session that it would start an hour earlier,
        // beside a new event of that session and one of the existing session.
        let summary = ingest(&json!([
            event("e1", "a@x", "s-new", "2026-11-23T08:00:00Z", 7.0),
            event("e3", "a@x", "s-new", "2026-11-23T09:30:00Z", 2.0),
            event("e4", "a@x", "s1", "2026-11-23T09:00:00Z", 5.0),
        ]));
        assert_eq!(
            (&summary["accepted"], &summary["duplicates"]),
            (&json!(2), &json!(1))
        );
        assert_eq!(
            text(
                "SELECT string_agg(concat_ws(' ', client_session_id, event_count, talked_time,
                                   to_char(started_at AT TIME ZONE 'UTC', 'HH24:MI')), ', '
                                   ORDER BY client_session_id)
                 FROM user_metrics.sessions"
            )
            .as_deref(),
            Some("s-new 1 2.0 09:30, s1 2 15.0 09:00")
        );
        assert_eq!(
            text(
                "SELECT concat_ws(' ', h->'sessions', h->'events') FROM user_metrics.health() AS h"
            )
            .as_deref(),
            Some("2 3")
        );
    }

    #[pg_test]
    fn events_without_event_id_are_all_stored() {
        let mut e = event("x", "a@x", "s1", "2026-11-23T09:00:00Z", 1.5);
        e.as_object_mut().unwrap().remove("event_id");
        assert_eq!(ingest(&json!([e, e]))["accepted"], json!(2));
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.events WHERE event_id IS NULL"),
            2
        );
    }

    #[pg_test]
    fn email_identity_ignores_case() {
        ingest(&json!([
            event("e1", "Ana@Example.COM", "s1", "2026-11-23T09:00:00Z", 1.0),
            event("e2", "ana@example.com", "s2", "2026-11-23T09:00:00Z", 1.0),
        ]));
        ingest(&event(
            "e3",
            "ANA@EXAMPLE.COM",
            "s3",
            "2026-11-23T09:00:00Z",
            1.0,
        ));
        assert_eq!(count("SELECT count(*) FROM user_metrics.users"), 1);
        assert_eq!(
            count("SELECT count(DISTINCT user_key) FROM user_metrics.sessions"),
            1
        );
    }

    #[pg_test]
    fn the_latest_non_empty_name_wins() {
        let mut a = event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        a["user"]["name"] = json!("First");
        let mut b = event("e2", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        b["user"]["name"] = json!("Second");
        let mut c = event("e3", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        c["user"]["name"] = json!("");
        ingest(&json!([a, b, c]));
        let name = || text("SELECT name FROM user_metrics.users");
        assert_eq!(name().as_deref(), Some("Second"));
        // A duplicate does not rename.
        let mut d = event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        d["user"]["name"] = json!("Ignored");
        ingest(&d);
        assert_eq!(name().as_deref(), Some("Second"));
        let mut e = event("e4", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        e["user"]["name"] = json!("Third");
        ingest(&e);
        assert_eq!(name().as_deref(), Some("Third"));
    }

    #[pg_test]
    fn later_events_widen_the_session_and_the_first_device_stays() {
        let mut a = event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        a["session"]["ended_at"] = json!("2026-11-23T09:30:00Z");
        ingest(&a);
        let mut b = event("e2", "a@x", "s1", "2026-11-23T08:30:00Z", 1.0);
        b["session"]["ended_at"] = json!("2026-11-23T09:10:00Z");
        b["session"]["device"] = json!({"id": "phone-1"});
        ingest(&b);
        let mut c = event("e3", "a@x", "s1", "2026-11-23T09:05:00Z", 1.0);
        c["session"]["ended_at"] = json!("2026-11-23T10:00:00Z");
        c["session"]["device"] = json!({"id": "laptop-2"});
        ingest(&c);
        let row = Spi::get_one::<String>(
            "SELECT concat_ws('|', started_at AT TIME ZONE 'UTC', ended_at AT TIME ZONE 'UTC', device->>'id', event_count)
             FROM user_metrics.sessions",
        )
        .unwrap();
        assert_eq!(
            row.as_deref(),
            Some("2026-11-23 08:30:00|2026-11-23 10:00:00|phone-1|3")
        );
    }

    #[pg_test]
    fn the_same_session_id_sent_by_two_users_is_two_sessions() {
        ingest(&event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0));
        let summary = ingest(&json!([
            event("e2", "b@x", "s1", "2026-11-23T09:00:00Z", 5.0),
            event("e3", "a@x", "s1", "2026-11-23T09:00:00Z", 2.0),
        ]));
        assert_eq!(summary["accepted"], json!(2));
        assert_eq!(summary["rejected"], json!(0));
        assert_eq!(
            text(
                "SELECT string_agg(u.email || '=' || s.talked_time, ',' ORDER BY u.email)
                 FROM user_metrics.sessions s JOIN user_metrics.users u ON u.user_key = s.user_key"
            )
            .as_deref(),
            Some("a@x=3.0,b@x=5.0")
        );
        // Without the e-mail, every user's session of that id; with it, one.
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.get_session_details('s1')"),
            2
        );
        assert_eq!(
            text("SELECT talked_time::text FROM user_metrics.get_session_details('s1', 'B@X')")
                .as_deref(),
            Some("5.0")
        );
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.get_session_details('s1', 'c@x')"),
            0
        );
    }

    #[pg_test]
    fn event_ids_are_unique_per_user() {
        let batch = json!([
            event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0),
            event("e1", "b@x", "s1", "2026-11-23T09:00:00Z", 2.0),
        ]);
        assert_eq!(ingest(&batch)["accepted"], json!(2));
        let again = ingest(&batch);
        assert_eq!(
            (&again["accepted"], &again["duplicates"]),
            (&json!(0), &json!(2))
        );
        assert_eq!(count("SELECT count(*) FROM user_metrics.events"), 2);
    }

    #[pg_test]
    fn user_key_is_sha256_of_the_normalized_email() {
        // The SQL expression the README gives for computing it without the extension.
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT user_metrics.user_key('Zoë@X') = ('x' || left(encode(sha256(convert_to(
                        user_metrics.normalize_email('Zoë@X'), 'UTF8')), 'hex'), 16))::bit(64)::bigint"
            )
            .unwrap(),
            Some(true)
        );
        ingest(&event("e1", "Zoë@X", "s1", "2026-11-23T09:00:00Z", 1.0));
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT user_key = user_metrics.user_key('zoë@x') FROM user_metrics.users"
            )
            .unwrap(),
            Some(true)
        );
    }

    /// Writes a user whose key is that of `email` under another address: what two
    /// e-mails whose SHA-256 digests share their first 64 bits would leave.
    fn collide_with(email: &str) {
        Spi::run(&format!(
            "INSERT INTO user_metrics.users (user_key, email)
             VALUES (user_metrics.user_key('{email}'), 'holder@x')"
        ))
        .unwrap();
    }

    #[pg_test]
    fn an_email_whose_key_is_taken_is_quarantined() {
        collide_with("b@x");
        let summary = ingest(&json!([
            event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0),
            event("e2", "b@x", "s2", "2026-11-23T09:00:00Z", 5.0),
        ]));
        assert_eq!(summary["accepted"], json!(1));
        assert_eq!(
            summary["errors"],
            json!([{
                "index": 1,
                "event_id": "e2",
                "code": "user_key_collision",
                "message": "user.email: the user key of \"b@x\" belongs to another e-mail address"
            }])
        );
        assert_eq!(count("SELECT count(*) FROM user_metrics.sessions"), 1);
        assert_eq!(
            count(
                "SELECT count(*) FROM user_metrics.rejected_events
                   WHERE error_code = 'user_key_collision' AND event_id = 'e2' AND batch_index = 1"
            ),
            1
        );
    }

    #[pg_test]
    fn a_mixed_batch_stores_the_valid_and_quarantines_the_rest() {
        let good = event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        let mut bad = event("e2", "a@x", "s1", "2026-11-23T09:00:00Z", -5.0);
        bad["note"] = json!(null);
        let summary = ingest(&json!([good, bad, 42, good, {"metrics": {"talk_time": 1}}]));
        assert_eq!(
            summary,
            json!({
                "accepted": 1,
                "duplicates": 1,
                "rejected": 3,
                "errors": [
                    {"index": 1, "event_id": "e2", "code": "unknown_field", "message": "note: unknown field"},
                    {"index": 2, "event_id": null, "code": "not_an_object", "message": "event: expected an object, got a number"},
                    {"index": 4, "event_id": null, "code": "missing_field", "message": "user: required field is missing"}
                ]
            })
        );
        assert_eq!(
            text("SELECT string_agg(batch_index || ':' || error_code || ':' || payload::text, ' ; ' ORDER BY batch_index)
                 FROM user_metrics.rejected_events")
            .as_deref(),
            Some(
                "1:unknown_field:{\"note\": null, \"user\": {\"email\": \"a@x\"}, \"metrics\": {\"talked_time\": -5.0}, \"session\": {\"id\": \"s1\", \"started_at\": \"2026-11-23T09:00:00Z\"}, \"event_id\": \"e2\"} ; \
                 2:not_an_object:42 ; \
                 4:missing_field:{\"metrics\": {\"talk_time\": 1}}"
            )
        );
    }

    #[pg_test]
    fn raise_mode_stores_nothing_and_names_index_path_and_problem() {
        let good = event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        let bad = event("e2", "a@x", "s1", "2026-11-23T09:00:00Z", -5.0);
        let payload = json!([good, bad]).to_string();
        let error = error_of(&format!(
            "SELECT user_metrics.ingest_metrics('{payload}'::jsonb, on_error => 'raise')"
        ));
        assert_eq!(
            error.as_deref(),
            Some("22023: invalid event at index 1: metrics.talked_time: invalid_value")
        );
        assert_eq!(count("SELECT count(*) FROM user_metrics.events"), 0);
        assert_eq!(count("SELECT count(*) FROM user_metrics.users"), 0);
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.rejected_events"),
            0
        );
        // A valid batch in raise mode is stored as usual.
        assert_eq!(ingest_with(&json!([good]), "raise")["accepted"], json!(1));
    }

    #[pg_test]
    fn raise_mode_raises_on_a_key_collision_too() {
        collide_with("b@x");
        let payload = json!([
            event("e2", "new@x", "s2", "2026-11-23T09:00:00Z", 1.0),
            event("e3", "b@x", "s1", "2026-11-23T09:00:00Z", 1.0)
        ]);
        let error = error_of(&format!(
            "SELECT user_metrics.ingest_metrics('{payload}'::jsonb, 'raise')"
        ));
        assert_eq!(
            error.as_deref(),
            Some("22023: invalid event at index 1: user.email: user_key_collision")
        );
        assert_eq!(count("SELECT count(*) FROM user_metrics.users"), 1);
        assert_eq!(count("SELECT count(*) FROM user_metrics.sessions"), 0);
    }

    #[pg_test]
    fn bad_arguments_raise_with_their_sqlstate() {
        assert_eq!(
            error_of("SELECT user_metrics.ingest_metrics(NULL)").as_deref(),
            Some("22004: events must not be NULL")
        );
        assert_eq!(
            error_of("SELECT user_metrics.ingest_metrics('[]', NULL)").as_deref(),
            Some("22004: on_error must not be NULL")
        );
        assert_eq!(
            error_of("SELECT user_metrics.ingest_metrics('[]', 'ignore')").as_deref(),
            Some("22023: on_error must be 'quarantine' or 'raise', got 'ignore'")
        );
        for (json, kind) in [
            ("42", "a number"),
            ("\"x\"", "a string"),
            ("null", "null"),
            ("true", "a boolean"),
        ] {
            assert_eq!(
                error_of(&format!("SELECT user_metrics.ingest_metrics('{json}')")),
                Some(format!(
                    "22023: events must be a JSON object or an array of objects, got {kind}"
                ))
            );
        }
        assert_eq!(
            count("SELECT count(*) FROM user_metrics.rejected_events"),
            0
        );
    }

    #[pg_test]
    fn a_hundred_thousand_events_in_one_call() {
        let total = count(
            "WITH batch AS (
                 SELECT jsonb_agg(jsonb_build_object(
                     'event_id', 'big-' || i,
                     'user', jsonb_build_object('email', 'u' || (i % 1000) || '@x'),
                     'session', jsonb_build_object('id', 's' || (i % 5000), 'started_at', 1795424400 + i % 5000),
                     'metrics', jsonb_build_object('talked_time', 1))) AS events
                 FROM generate_series(1, 100000) AS i)
             SELECT (user_metrics.ingest_metrics(events)->>'accepted')::bigint FROM batch",
        );
        assert_eq!(total, 100_000);
        assert_eq!(count("SELECT count(*) FROM user_metrics.users"), 1000);
        assert_eq!(
            count("SELECT sum(event_count)::bigint FROM user_metrics.sessions"),
            100_000
        );
        assert_eq!(
            count("SELECT sum(talked_time)::bigint FROM user_metrics.sessions"),
            100_000
        );
    }

    #[pg_test]
    fn microphone_and_speaker_are_true_if_any_event_says_so() {
        let mut a = event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        a["metrics"]["microphone_used"] = json!(false);
        ingest(&a);
        let flags = || {
            Spi::get_one::<String>(
                "SELECT coalesce(microphone_used::text, 'null') || ',' || coalesce(speaker_used::text, 'null') FROM user_metrics.sessions",
            )
            .unwrap()
            .unwrap()
        };
        assert_eq!(flags(), "false,null");
        let mut b = event("e2", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        b["metrics"]["microphone_used"] = json!(true);
        b["metrics"]["speaker_used"] = json!(false);
        ingest(&b);
        assert_eq!(flags(), "true,false");
        let mut c = event("e3", "a@x", "s1", "2026-11-23T09:00:00Z", 1.0);
        c["metrics"]["microphone_used"] = json!(false);
        ingest(&c);
        assert_eq!(flags(), "true,false");
    }
}
