//! A call of one event stores its rows without a statement
//! (`storage::store_one_in_place`): the rows are those the statement
//! (`store_one.sql`) writes for the same calls, and what a DBA adds to the tables
//! (a CHECK, a trigger) holds as it would for a statement.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use serde_json::{json, Value};

    use crate::tests::{error_of, event, ingest, text};

    fn empty() {
        Spi::run(
            "TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users,
                      user_metrics.counters, user_metrics.ingest_counters",
        )
        .unwrap();
    }

    /// Calls of one event that cover what the path does: a new user (with and
    /// without a name), a new session with every total, an existing session whose
    /// start, end, device and booleans change, an event without an event_id, a
    /// repeat, a new name (a case for the general path), sentiment absent.
    fn calls() -> Vec<Value> {
        let mut first = event("e1", "a@x", "s1", "2026-11-20T10:00:00Z", 1.5);
        first["user"]["name"] = json!("Ann");
        first["session"]["ended_at"] = json!("2026-11-20T10:30:00Z");
        first["metrics"]["microphone_used"] = json!(false);
        first["metrics"]["voice_sentiment"] = json!(0.25);
        let mut earlier = event("e2", "a@x", "s1", "2026-11-20T09:00:00Z", 2.25);
        earlier["session"]["ended_at"] = json!("2026-11-20T11:00:00Z");
        earlier["session"]["device"] = json!({"model": "x1", "os": "linux"});
        earlier["metrics"]["microphone_used"] = json!(true);
        earlier["metrics"]["speaker_used"] = json!(false);
        earlier["metrics"]["voice_sentiment"] = json!(-0.75);
        let mut no_id = event("", "a@x", "s1", "2026-11-20T10:00:00Z", 0.001);
        no_id.as_object_mut().unwrap().remove("event_id");
        let mut renamed = event("e5", "a@x", "s2", "2026-11-21T10:00:00Z", 4.0);
        renamed["user"]["name"] = json!("Anna");
        let mut recorded = event("e6", "b@x", "s1", "2026-11-20T10:00:00Z", 3.0);
        recorded["recorded_at"] = json!("2026-11-20T10:05:00Z");
        recorded["session"]["device"] = json!({"model": "y"});
        vec![
            first,
            earlier.clone(),
            no_id,
            earlier,
            renamed,
            recorded,
            event("e7", "b@x", "s1", "2026-11-20T10:00:00Z", 1.0),
            event("e8", "c@x", "s3", "2026-11-22T10:00:00Z", 86400.0),
        ]
    }

    /// The stored rows and the counts, by their content (not their ids).
    fn stored() -> String {
        text(
            "SELECT concat_ws(E'\\n',
                 (SELECT string_agg(concat_ws(' ', email, name, created_at = now()), ';' ORDER BY email)
                  FROM user_metrics.users),
                 (SELECT string_agg(concat_ws(' ', u.email, s.client_session_id, s.started_at, s.ended_at,
                                              s.device, s.event_count, s.talked_time, s.microphone_used,
                                              s.speaker_used, s.sentiment_sum, s.sentiment_count),
                                    ';' ORDER BY u.email, s.client_session_id)
                  FROM user_metrics.sessions AS s JOIN user_metrics.users AS u USING (user_key)),
                 (SELECT string_agg(concat_ws(' ', u.email, s.client_session_id, e.event_id, e.recorded_at,
                                              e.received_at = now(), e.talked_time, e.microphone_used,
                                              e.speaker_used, e.voice_sentiment),
                                    ';' ORDER BY e.event_id, e.talked_time)
                  FROM user_metrics.events AS e
                  JOIN user_metrics.sessions AS s ON s.user_key = e.user_key AND s.id = e.session_id
                  JOIN user_metrics.users AS u ON u.user_key = e.user_key),
                 (SELECT h::text FROM user_metrics.health() AS h),
                 (SELECT concat_ws(' ', calls, accepted, duplicates) FROM user_metrics.ingest_stats))",
        )
        .unwrap()
        .replace(&text("SELECT now()::text").unwrap(), "now")
    }

    #[pg_test]
    fn the_rows_are_those_of_the_statement() {
        empty();
        for call in calls() {
            ingest(&call);
        }
        let in_place = stored();
        assert!(in_place.contains("a@x s1 2026-11-20 09:00:00+00 2026-11-20 11:00:00+00"));
        assert!(
            in_place.contains("\"users\": 3, \"events\": 7"),
            "{in_place}"
        );

        // A trigger on the events (which only a statement runs) sends each call to
        // the statement: the same calls give the same rows.
        empty();
        Spi::run(
            "CREATE FUNCTION pg_temp.keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
             CREATE TRIGGER keep BEFORE INSERT ON user_metrics.events
                 FOR EACH ROW EXECUTE FUNCTION pg_temp.keep()",
        )
        .unwrap();
        for call in calls() {
            ingest(&call);
        }
        assert_eq!(stored(), in_place);
    }

    #[pg_test]
    fn checks_added_to_the_events_and_sessions_hold() {
        empty();
        Spi::run(
            "ALTER TABLE user_metrics.events ADD CONSTRAINT short_talks CHECK (talked_time < 100);
             ALTER TABLE user_metrics.sessions ADD CONSTRAINT two_events CHECK (event_count <= 2)",
        )
        .unwrap();
        ingest(&event("e1", "a@x", "s1", "2026-11-20T10:00:00Z", 1.0));
        let call = |id: &str, talked: f64| {
            let call = json!(event(id, "a@x", "s1", "2026-11-20T10:00:00Z", talked)).to_string();
            error_of(&format!("SELECT user_metrics.ingest_metrics('{call}')"))
        };
        let long = call("e2", 200.0);
        assert!(
            long.as_deref()
                .is_some_and(|e| e.starts_with("23514:") && e.contains("short_talks")),
            "{long:?}"
        );
        assert_eq!(call("e2", 2.0), None);
        let third = call("e3", 3.0);
        assert!(
            third
                .as_deref()
                .is_some_and(|e| e.starts_with("23514:") && e.contains("two_events")),
            "{third:?}"
        );
        assert_eq!(
            text("SELECT concat_ws(' ', event_count, talked_time) FROM user_metrics.sessions")
                .as_deref(),
            Some("2 3.0")
        );
    }

    #[pg_test]
    fn a_check_follows_the_function_it_calls() {
        empty();
        // An immutable SQL function is inlined, its value folded in, when the CHECK
        // is prepared: changing the function must prepare the CHECK again.
        Spi::run(
            "CREATE FUNCTION public.talk_limit() RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT 100';
             ALTER TABLE user_metrics.events ADD CONSTRAINT under_limit CHECK (talked_time < public.talk_limit())",
        )
        .unwrap();
        ingest(&event("e1", "a@x", "s1", "2026-11-20T10:00:00Z", 50.0));
        ingest(&event("e2", "a@x", "s1", "2026-11-20T10:00:00Z", 50.0));
        Spi::run("CREATE OR REPLACE FUNCTION public.talk_limit() RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT 10'")
            .unwrap();
        let call = json!(event("e3", "a@x", "s1", "2026-11-20T10:00:00Z", 50.0)).to_string();
        let refused = error_of(&format!("SELECT user_metrics.ingest_metrics('{call}')"));
        assert!(
            refused
                .as_deref()
                .is_some_and(|e| e.starts_with("23514:") && e.contains("under_limit")),
            "{refused:?}"
        );
    }
}
