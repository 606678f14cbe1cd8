//! Fuzzing the contract: random JSON and mutated valid events, for a bounded time
//! (CONTRACT_FUZZ_SECONDS, 60 by default). Properties:
//! - parsing never panics, whatever the input;
//! - an accepted event keeps the contract's invariants;
//! - an accepted event round-trips: written back as JSON and parsed again, it is
//!   the same event.
//!
//! Failing inputs are saved by proptest under `proptest-regressions/` and replayed
//! first on every later run.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};
use user_metrics_contract::*;

const KEYS: &[&str] = &[
    "event_id",
    "recorded_at",
    "user",
    "email",
    "name",
    "session",
    "id",
    "started_at",
    "ended_at",
    "device",
    "type",
    "os",
    "app_version",
    "model",
    "metrics",
    "talked_time",
    "microphone_used",
    "speaker_used",
    "voice_sentiment",
    "talk_time",
    "",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-2.0e6f64..2.0e6).prop_map(|f| json!(f)),
        (-1.5f64..1.5).prop_map(|f| json!(f)),
        prop::num::f64::NORMAL.prop_map(|f| json!(f)),
        Just(json!(0)),
        Just(json!(86400)),
        Just(json!(1_795_424_400)),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9.@+-]{0,40}",
        "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}",
        "\\PC{0,300}",
        // Timestamp-like text, valid and not.
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?",
    ]
}

/// Any JSON value, keys drawn mostly from the contract's own.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (prop::sample::select(KEYS).prop_map(str::to_string), inner),
                0..8
            )
            .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn valid_event() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9-]{1,20}",
        "[a-zA-Z]{1,10}@[a-z]{1,10}\\.(com|org|ÉU)",
        "\\PC{0,20}",
        "[a-z0-9-]{1,30}",
        0u64..4_000_000_000,
        0u64..100_000,
        0.0f64..86400.0,
        (any::<Option<bool>>(), any::<Option<bool>>()),
        prop::option::of(-1.0f64..=1.0),
    )
        .prop_map(
            |(id, email, name, session, start, length, talked, (mic, spk), sentiment)| {
                json!({
                    "event_id": id,
                    "recorded_at": start + length / 2,
                    "user": {"email": email, "name": name},
                    "session": {"id": session, "started_at": start, "ended_at": start + length,
                                "device": {"id": "d", "os": name, "extra": [1, {"k": "v"}]}},
                    "metrics": {"talked_time": talked, "microphone_used": mic, "speaker_used": spk,
                                "voice_sentiment": sentiment}
                })
            },
        )
}

/// A valid event with a few fields replaced by random JSON, removed, or added.
fn mutated_event() -> impl Strategy<Value = Value> {
    (
        valid_event(),
        prop::collection::vec(
            (
                prop::sample::select(
                    &[
                        "event_id",
                        "recorded_at",
                        "user",
                        "user.email",
                        "user.name",
                        "session",
                        "session.id",
                        "session.started_at",
                        "session.ended_at",
                        "session.device",
                        "session.device.os",
                        "metrics",
                        "metrics.talked_time",
                        "metrics.microphone_used",
                        "metrics.voice_sentiment",
                        "metrics.talk_time",
                        "bogus",
                    ][..],
                ),
                prop::option::of(any_json()),
            ),
            1..4,
        ),
    )
        .prop_map(|(mut event, edits)| {
            for (path, value) in edits {
                set_path(&mut event, path, value);
            }
            event
        })
}

fn set_path(event: &mut Value, path: &str, value: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut node = event;
    for part in parts {
        match node.get_mut(part) {
            Some(child) if child.is_object() => node = child,
            _ => return,
        }
    }
    if let Some(object) = node.as_object_mut() {
        match value {
            Some(v) => {
                object.insert(last.to_string(), v);
            }
            None => {
                object.remove(last);
            }
        }
    }
}

/// An accepted event written back as contract JSON text. The device object is
/// spliced in exactly as it was sent (the contract keeps it verbatim).
fn to_json(event: &Event<'_>) -> String {
    let time = |t: Timestamp| {
        chrono::DateTime::from_timestamp_micros(t.unix_micros)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    let mut user = json!({"email": event.email});
    if let Some(name) = &event.name {
        user["name"] = json!(name);
    }
    let mut session = json!({"id": event.session_id, "started_at": time(event.started_at)});
    if let Some(end) = event.ended_at {
        session["ended_at"] = json!(time(end));
    }
    const DEVICE: &str = "\u{0}device\u{0}";
    if event.device.is_some() {
        session["device"] = json!(DEVICE);
    }
    let text = json!({
        "event_id": event.event_id,
        "recorded_at": event.recorded_at.map(time),
        "user": user,
        "session": session,
        "metrics": {
            "talked_time": event.talked_time,
            "microphone_used": event.microphone_used,
            "speaker_used": event.speaker_used,
            "voice_sentiment": event.voice_sentiment,
        }
    })
    .to_string();
    match &event.device {
        Some(device) => text.replace(&json!(DEVICE).to_string(), device),
        None => text,
    }
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let raw: &RawValue = match serde_json::from_str(text) {
        Ok(raw) => raw,
        Err(_) => return Ok(()),
    };
    let Ok(event) = parse_event(raw) else {
        return Ok(());
    };
    prop_assert!(event.email.contains('@') && event.email.to_lowercase() == event.email);
    prop_assert!((0.0..=MAX_TALKED_SECONDS).contains(&event.talked_time));
    prop_assert!(event.talked_time.is_sign_positive());
    prop_assert!(event
        .voice_sentiment
        .is_none_or(|s| (-1.0..=1.0).contains(&s)));
    prop_assert!(event.ended_at.is_none_or(|end| end >= event.started_at));
    prop_assert!(!event.session_id.is_empty() && event.session_id.chars().count() <= MAX_ID_CHARS);
    prop_assert!(event.name.as_deref() != Some(""));

    let again_text = to_json(&event);
    let again_raw: &RawValue = serde_json::from_str(&again_text).unwrap();
    let again = parse_event(again_raw);
    prop_assert!(again.is_ok(), "{again_text} was refused: {:?}", again.err());
    prop_assert_eq!(again.unwrap().into_owned(), event.into_owned());
    Ok(())
}

#[test]
fn fuzz_the_contract_for_a_bounded_time() {
    let seconds: u64 = std::env::var("CONTRACT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let config = Config {
        cases: 2_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        source_file: Some(file!()),
        ..Config::default()
    };
    let mut executions: u64 = 0;
    let mut rounds = 0;
    while rounds == 0 || Instant::now() < deadline {
        for strategy in [
            any_json().prop_map(|v| v.to_string()).boxed(),
            valid_event().prop_map(|v| v.to_string()).boxed(),
            mutated_event().prop_map(|v| v.to_string()).boxed(),
            "\\PC{0,200}".boxed(),
        ] {
            let mut runner = TestRunner::new(config.clone());
            runner
                .run(&strategy, |text| check(&text))
                .unwrap_or_else(|failure| panic!("{failure}"));
            executions += u64::from(config.cases);
        }
        rounds += 1;
    }
    println!("contract fuzzing: {executions} inputs in {rounds} rounds, no failure");
}

#[test]
fn every_valid_event_strategy_output_is_accepted() {
    // The generator of valid events must really produce valid events, or the
    // round-trip property above would be tested on nothing.
    let mut runner = TestRunner::new(Config {
        cases: 500,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&valid_event(), |event| {
            let text = event.to_string();
            let raw: &RawValue = serde_json::from_str(&text).unwrap();
            prop_assert!(parse_event(raw).is_ok(), "{text}");
            Ok(())
        })
        .unwrap();
}
