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
use serde_json::json;
use std::time::{Duration, Instant};
use user_metrics_contract::generate::*;
use user_metrics_contract::*;

/// An accepted event written back as contract JSON text. The device object is
/// spliced in exactly as it was sent (the contract keeps it verbatim), and the
/// numbers as their exact decimal text.
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
    const TALKED: &str = "\u{0}talked\u{0}";
    const SENTIMENT: &str = "\u{0}sentiment\u{0}";
    if event.device.is_some() {
        session["device"] = json!(DEVICE);
    }
    let text = json!({
        "event_id": event.event_id,
        "recorded_at": event.recorded_at.map(time),
        "user": user,
        "session": session,
        "metrics": {
            "talked_time": TALKED,
            "microphone_used": event.microphone_used,
            "speaker_used": event.speaker_used,
            "voice_sentiment": event.voice_sentiment.map(|_| SENTIMENT),
        }
    })
    .to_string();
    let mut text = text.replace(&json!(TALKED).to_string(), &event.talked_time.to_string());
    if let Some(sentiment) = event.voice_sentiment {
        text = text.replace(&json!(SENTIMENT).to_string(), &sentiment.to_string());
    }
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
    prop_assert!(check_address(&event.email).is_ok(), "{:?}", event.email);
    prop_assert_eq!(
        normalize_email(&event.email),
        event.email.as_ref(),
        "stored form is a fixed point"
    );
    prop_assert!(event.email.chars().count() <= MAX_EMAIL_CHARS);
    prop_assert!(event.talked_time >= Decimal::ZERO);
    prop_assert!(event.talked_time <= Decimal::from(MAX_TALKED_SECONDS));
    prop_assert!(event.talked_time.scale() <= MAX_DECIMAL_PLACES);
    prop_assert!(!event.talked_time.to_string().starts_with('-'));
    prop_assert!(event
        .voice_sentiment
        .is_none_or(|s| s >= Decimal::NEGATIVE_ONE
            && s <= Decimal::ONE
            && s.scale() <= MAX_DECIMAL_PLACES));
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
            long_email_event().prop_map(|v| v.to_string()).boxed(),
            address_or_not()
                .prop_map(|a| {
                    json!({"user": {"email": a}, "session": {"id": "s", "started_at": 0},
                                     "metrics": {"talked_time": 1}})
                    .to_string()
                })
                .boxed(),
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

/// The pattern schema/event.schema.json gives `user.email`, which clients use to
/// check addresses before sending them.
fn schema_email_pattern() -> regex::Regex {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/event.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let pattern = schema["properties"]["user"]["properties"]["email"]["pattern"]
        .as_str()
        .expect("the schema gives user.email a pattern");
    regex::Regex::new(pattern).unwrap()
}

fn accepts_email(address: &str) -> Result<String, String> {
    let mut event: serde_json::Value = serde_json::from_str(
        r#"{"user": {}, "session": {"id": "s", "started_at": 0}, "metrics": {"talked_time": 1}}"#,
    )
    .unwrap();
    event["user"]["email"] = json!(address);
    let text = event.to_string();
    let raw: &RawValue = serde_json::from_str(&text).unwrap();
    parse_event(raw)
        .map(|e| e.email.into_owned())
        .map_err(|r| r.message)
}

/// Addresses drawn from the whole grammar are accepted and near misses refused;
/// the JSON Schema's pattern says the same of each; what is stored follows the
/// rule too.
#[test]
fn addresses_follow_the_mailbox_rule_and_the_schema_agrees() {
    let pattern = schema_email_pattern();
    let mut runner = TestRunner::new(Config {
        cases: 3_000,
        failure_persistence: None,
        ..Config::default()
    });
    for (strategy, valid) in [(address().boxed(), true), (not_an_address().boxed(), false)] {
        runner
            .run(&strategy, |address| {
                let verdict = accepts_email(&address);
                prop_assert_eq!(verdict.is_ok(), valid, "{:?}: {:?}", address, verdict);
                prop_assert_eq!(pattern.is_match(&address), valid, "schema on {:?}", address);
                if let Ok(stored) = verdict {
                    prop_assert!(check_address(&stored).is_ok(), "{:?}", stored);
                    prop_assert!(pattern.is_match(&stored), "schema on stored {:?}", stored);
                } else {
                    prop_assert!(
                        verdict
                            .unwrap_err()
                            .starts_with("user.email: expected an email address"),
                        "{:?}",
                        address
                    );
                }
                Ok(())
            })
            .unwrap();
    }
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
