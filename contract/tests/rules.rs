//! Every rule of the event contract, valid and invalid, with the exact code and path.

use serde_json::{json, Value};
use user_metrics_contract::*;

fn base() -> Value {
    json!({
        "event_id": "c0a8-0001",
        "recorded_at": "2026-11-23T09:15:00Z",
        "user": { "email": "Ana@Example.com", "name": "Ana Lima" },
        "session": {
            "id": "s-1001",
            "started_at": "2026-11-23T09:00:00Z",
            "ended_at": "2026-11-23T10:40:00+01:00",
            "device": { "id": "mbp-7", "type": "desktop", "os": "macOS 15.1", "app_version": "3.4.0" }
        },
        "metrics": { "talked_time": 312.5, "microphone_used": true, "speaker_used": false, "voice_sentiment": 0.42 }
    })
}

/// The base event with the value at a dotted path replaced (`None` removes it).
fn edit(path: &str, value: Option<Value>) -> String {
    let mut event = base();
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut node = &mut event;
    for part in parts {
        node = node.get_mut(part).unwrap();
    }
    let object = node.as_object_mut().unwrap();
    match value {
        Some(v) => {
            object.insert(last.to_string(), v);
        }
        None => {
            object.remove(last);
        }
    }
    event.to_string()
}

fn parse(text: &str) -> Result<Event<'static>, Rejection> {
    let raw: &RawValue = serde_json::from_str(text).expect("test JSON must be valid");
    parse_event(raw).map(Event::into_owned)
}

fn accept(text: &str) -> Event<'static> {
    parse(text).unwrap_or_else(|r| panic!("expected {text} to be accepted, got {r:?}"))
}

fn reject(text: &str) -> Rejection {
    match parse(text) {
        Ok(e) => panic!("expected {text} to be rejected, got {e:?}"),
        Err(r) => r,
    }
}

fn micros(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_micros()
}

#[test]
fn the_documented_example_is_accepted_and_normalized() {
    let event = accept(&base().to_string());
    assert_eq!(event.event_id.as_deref(), Some("c0a8-0001"));
    assert_eq!(event.email, "ana@example.com");
    assert_eq!(event.name.as_deref(), Some("Ana Lima"));
    assert_eq!(event.session_id, "s-1001");
    assert_eq!(event.started_at.unix_micros, micros("2026-11-23T09:00:00Z"));
    assert_eq!(
        event.ended_at.map(|t| t.unix_micros),
        Some(micros("2026-11-23T09:40:00Z"))
    );
    assert_eq!(
        event.recorded_at.map(|t| t.unix_micros),
        Some(micros("2026-11-23T09:15:00Z"))
    );
    let device: Value = serde_json::from_str(event.device.as_deref().unwrap()).unwrap();
    assert_eq!(device, base()["session"]["device"]);
    assert_eq!(event.talked_time.to_string(), "312.5");
    assert_eq!(event.microphone_used, Some(true));
    assert_eq!(event.speaker_used, Some(false));
    assert_eq!(
        event.voice_sentiment.map(|s| s.to_string()).as_deref(),
        Some("0.42")
    );
}

#[test]
fn an_end_given_in_another_offset_is_compared_as_an_instant() {
    // 09:40 at +01:00 is 08:40 UTC, twenty minutes before the 09:00 UTC start.
    let r = reject(&edit(
        "session.ended_at",
        Some(json!("2026-11-23T09:40:00+01:00")),
    ));
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "session.ended_at")
    );
}

#[test]
fn only_the_four_required_fields_are_needed() {
    let minimal = json!({
        "user": { "email": "a@b" },
        "session": { "id": "s", "started_at": 0 },
        "metrics": { "talked_time": 0 }
    });
    let event = accept(&minimal.to_string());
    assert_eq!(event.event_id, None);
    assert_eq!(event.recorded_at, None);
    assert_eq!(event.name, None);
    assert_eq!(event.ended_at, None);
    assert_eq!(event.device, None);
    assert_eq!(event.microphone_used, None);
    assert_eq!(event.speaker_used, None);
    assert_eq!(event.voice_sentiment, None);
}

#[test]
fn null_counts_as_absent() {
    for optional in [
        "event_id",
        "recorded_at",
        "user.name",
        "session.ended_at",
        "session.device",
        "metrics.microphone_used",
        "metrics.speaker_used",
        "metrics.voice_sentiment",
    ] {
        accept(&edit(optional, Some(Value::Null)));
    }
    for required in [
        "user",
        "session",
        "metrics",
        "user.email",
        "session.id",
        "session.started_at",
        "metrics.talked_time",
    ] {
        for value in [None, Some(Value::Null)] {
            let r = reject(&edit(required, value));
            assert_eq!(r.code, RejectCode::MissingField, "{required}");
            assert_eq!(r.path, required);
            assert_eq!(r.message, format!("{required}: required field is missing"));
        }
    }
}

#[test]
fn an_event_that_is_not_an_object_is_not_an_object() {
    for (text, kind) in [
        ("[]", "an array"),
        ("[{}]", "an array"),
        ("42", "a number"),
        ("\"event\"", "a string"),
        ("true", "a boolean"),
        ("null", "null"),
    ] {
        let r = reject(text);
        assert_eq!(r.code, RejectCode::NotAnObject);
        assert_eq!(r.path, "");
        assert_eq!(r.message, format!("event: expected an object, got {kind}"));
    }
}

/// (path, a value of the wrong JSON type, the type it should have)
const WRONG_TYPES: &[(&str, &str, &str)] = &[
    ("event_id", "42", "a string"),
    (
        "recorded_at",
        "true",
        "an RFC 3339 string or Unix epoch seconds",
    ),
    ("user", "\"ana@example.com\"", "an object"),
    ("user.email", "[\"a@b\"]", "a string"),
    ("user.name", "{}", "a string"),
    ("session", "[]", "an object"),
    ("session.id", "1001", "a string"),
    (
        "session.started_at",
        "{}",
        "an RFC 3339 string or Unix epoch seconds",
    ),
    (
        "session.ended_at",
        "[1]",
        "an RFC 3339 string or Unix epoch seconds",
    ),
    ("session.device", "\"mbp-7\"", "an object"),
    ("session.device.id", "7", "a string"),
    ("session.device.type", "true", "a string"),
    ("session.device.os", "[]", "a string"),
    ("session.device.app_version", "3.4", "a string"),
    ("session.device.model", "{}", "a string"),
    ("metrics", "312.5", "an object"),
    ("metrics.talked_time", "\"312.5\"", "a number"),
    ("metrics.microphone_used", "\"true\"", "a boolean"),
    ("metrics.speaker_used", "1", "a boolean"),
    ("metrics.voice_sentiment", "\"0.4\"", "a number"),
];

#[test]
fn every_field_rejects_the_wrong_type() {
    for (path, value, expected) in WRONG_TYPES {
        let r = reject(&edit(path, Some(serde_json::from_str(value).unwrap())));
        assert_eq!(r.code, RejectCode::InvalidType, "{path}");
        assert_eq!(r.path, *path);
        assert!(
            r.message
                .starts_with(&format!("{path}: expected {expected}, got ")),
            "{}",
            r.message
        );
    }
}

#[test]
fn unknown_keys_are_rejected_at_every_level() {
    for (path, code_path) in [
        ("talked_time", "talked_time"),
        ("user.mail", "user.mail"),
        ("session.start", "session.start"),
        ("metrics.talk_time", "metrics.talk_time"),
    ] {
        let r = reject(&edit(path, Some(json!(1))));
        assert_eq!(r.code, RejectCode::UnknownField);
        assert_eq!(r.path, code_path);
        assert_eq!(r.message, format!("{code_path}: unknown field"));
    }
}

#[test]
fn a_long_unknown_key_is_cut_short_in_the_message() {
    let key = "k".repeat(10_000);
    let r = reject(&edit(&format!("metrics.{key}"), Some(json!(1))));
    assert_eq!(r.code, RejectCode::UnknownField);
    assert_eq!(
        r.message,
        format!("metrics.{}…: unknown field", "k".repeat(64))
    );
}

#[test]
fn a_typo_is_reported_as_unknown_before_the_missing_field() {
    let mut event = base();
    let metrics = event["metrics"].as_object_mut().unwrap();
    metrics.remove("talked_time");
    metrics.insert("talk_time".into(), json!(5));
    let r = reject(&event.to_string());
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::UnknownField, "metrics.talk_time")
    );
}

#[test]
fn unknown_device_keys_are_kept_as_sent() {
    let text = edit(
        "session.device",
        Some(json!({"id": "x", "screen": {"w": 1920, "h": 1080}, "beta": true})),
    );
    let event = accept(&text);
    let device: Value = serde_json::from_str(event.device.as_deref().unwrap()).unwrap();
    assert_eq!(device["screen"]["w"], 1920);
    assert_eq!(device["beta"], true);
}

#[test]
fn emails_must_be_mailboxes_with_one_at_and_text_on_both_sides() {
    for bad in [
        "ana.example.com",
        "@example.com",
        "ana@",
        "ana@@example.com",
        "a@b@c",
        "ana @example.com",
        "ana@example.com ",
        "ana\t@example.com",
        "ana\u{7}@example.com",
        "",
        // RFC 5321/5322 mailboxes: no scheme, display name, comment, quotes or
        // address literal; dots and hyphens only where they may stand.
        "mailto:ana@example.com",
        "Ana Lima <ana@example.com>",
        "<ana@example.com>",
        "ana@example.com (home)",
        "\"ana\"@example.com",
        "ana@[192.0.2.1]",
        "ana.@example.com",
        "ana..lima@example.com",
        "ana@example..com",
        "ana@example.com.",
        "ana@-example.com",
        "ana@example_1.com",
        "ana\u{a0}@example.com",
        "ana@example.com\u{3000}",
    ] {
        let r = reject(&edit("user.email", Some(json!(bad))));
        assert_eq!(r.code, RejectCode::InvalidValue, "{bad:?}");
        assert_eq!(r.path, "user.email");
        assert!(
            r.message
                .starts_with("user.email: expected an email address"),
            "{}",
            r.message
        );
    }
}

#[test]
fn an_email_refusal_says_what_is_wrong() {
    let r = reject(&edit("user.email", Some(json!("mailto:Ana@Example.com"))));
    assert_eq!(
        r.message,
        "user.email: expected an email address such as name@example.com: ':' is not allowed before the @, got \"mailto:Ana@Example.com\""
    );
    let r = reject(&edit("user.email", Some(json!(" ana@example.com"))));
    assert_eq!(
        r.message,
        "user.email: expected an email address such as name@example.com: whitespace (U+0020) is not allowed, got \" ana@example.com\""
    );
}

#[test]
fn addresses_of_every_kind_of_mailbox_are_accepted() {
    for (sent, stored) in [
        (
            "Ana.Lima+metrics@Example.co.uk",
            "ana.lima+metrics@example.co.uk",
        ),
        ("o'neil@example.ie", "o'neil@example.ie"),
        ("a@b", "a@b"),
        ("ZOË@Bücher.DE", "zoë@bücher.de"),
        ("用户@例子.广告", "用户@例子.广告"),
        (
            "x!#$%&'*+-/=?^_`{|}~@ex-ample.com",
            "x!#$%&'*+-/=?^_`{|}~@ex-ample.com",
        ),
    ] {
        assert_eq!(accept(&edit("user.email", Some(json!(sent)))).email, stored);
    }
}

#[test]
fn emails_are_limited_to_254_characters_and_lower_cased() {
    let at_limit = format!("{}@example.com", "a".repeat(254 - 12));
    assert_eq!(
        accept(&edit("user.email", Some(json!(at_limit))))
            .email
            .len(),
        254
    );
    let over = format!("{}@example.com", "a".repeat(254 - 11));
    let r = reject(&edit("user.email", Some(json!(over))));
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "user.email")
    );
    assert_eq!(
        r.message,
        "user.email: expected at most 254 characters once case-folded and normalized, got 255"
    );
    let event = accept(&edit("user.email", Some(json!("ÉLODIE@Example.COM"))));
    assert_eq!(event.email, "élodie@example.com");
}

#[test]
fn the_email_limit_applies_to_the_stored_form() {
    // 240 × İ is 252 characters as sent, but İ case-folds to i + U+0307: 492 stored.
    let grows = format!("{}@example.com", "İ".repeat(240));
    assert_eq!(grows.chars().count(), 252);
    let r = reject(&edit("user.email", Some(json!(grows))));
    assert_eq!(
        r.message,
        "user.email: expected at most 254 characters once case-folded and normalized, got 492"
    );
    // 250 × (e + U+0308) is 500 characters as sent, but composes to 250 × ë.
    let shrinks = format!("{}@x.io", "e\u{308}".repeat(248));
    assert_eq!(shrinks.chars().count(), 501);
    assert_eq!(
        accept(&edit("user.email", Some(json!(shrinks))))
            .email
            .chars()
            .count(),
        253
    );
}

#[test]
fn one_person_one_identity_whatever_the_case_and_normal_form() {
    for (a, b) in [
        ("zo\u{eb}@example.com", "zoe\u{308}@example.com"),
        ("ΟΔΟΣ@example.com", "οδος@example.com"),
        ("ΟΔΟΣ@example.com", "οδοσ@example.com"),
        ("STRASSE@example.com", "straße@example.com"),
        ("Zoë@Example.COM", "zoë@example.com"),
    ] {
        let first = accept(&edit("user.email", Some(json!(a))))
            .email
            .into_owned();
        let second = accept(&edit("user.email", Some(json!(b))))
            .email
            .into_owned();
        assert_eq!(first, second, "{a} and {b} are one person");
        assert_eq!(
            normalize_email(&first),
            first.as_str(),
            "stored form is stable"
        );
    }
}

#[test]
fn an_empty_name_is_ignored_and_a_long_one_rejected() {
    assert_eq!(accept(&edit("user.name", Some(json!("")))).name, None);
    let r = reject(&edit("user.name", Some(json!("n".repeat(257)))));
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "user.name")
    );
}

#[test]
fn ids_are_non_empty_and_at_most_128_characters() {
    for path in ["event_id", "session.id"] {
        let r = reject(&edit(path, Some(json!(""))));
        assert_eq!((r.code, r.path.as_str()), (RejectCode::InvalidValue, path));
        assert_eq!(r.message, format!("{path}: expected a non-empty string"));
        let r = reject(&edit(path, Some(json!("x".repeat(129)))));
        assert_eq!(
            r.message,
            format!("{path}: expected at most 128 characters, got 129")
        );
        accept(&edit(path, Some(json!("é".repeat(128)))));
    }
}

#[test]
fn talked_time_is_a_finite_number_from_0_to_86400() {
    for good in ["0", "-0", "0.0", "86400", "86400.0", "1e2", "312.5"] {
        let event = accept(&edit(
            "metrics.talked_time",
            Some(serde_json::from_str(good).unwrap()),
        ));
        assert!(event.talked_time >= Decimal::ZERO, "{good}");
        assert!(!event.talked_time.to_string().starts_with('-'), "{good}");
    }
    for bad in ["-5", "86400.001", "1e308", "-1e-300", "100000"] {
        let r = reject(&edit(
            "metrics.talked_time",
            Some(serde_json::from_str(bad).unwrap()),
        ));
        assert_eq!(r.code, RejectCode::InvalidValue, "{bad}");
        assert_eq!(r.path, "metrics.talked_time");
        assert!(
            r.message
                .starts_with("metrics.talked_time: expected a number from 0 to 86400, got "),
            "{}",
            r.message
        );
    }
    let r = reject(&edit("metrics.talked_time", Some(json!(-5))));
    assert_eq!(
        r.message,
        "metrics.talked_time: expected a number from 0 to 86400, got -5"
    );
}

#[test]
fn numbers_too_large_for_a_double_are_out_of_range_not_a_crash() {
    let text = base()
        .to_string()
        .replace("312.5", &format!("1{}", "0".repeat(400)));
    let r = reject(&text);
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "metrics.talked_time")
    );
    assert!(
        r.message.len() < 200,
        "long values are cut short: {}",
        r.message
    );
}

#[test]
fn voice_sentiment_is_from_minus_1_to_1() {
    for good in ["-1", "0", "1", "0.42", "-1.0"] {
        let value = serde_json::from_str(good).unwrap();
        assert_eq!(
            accept(&edit("metrics.voice_sentiment", Some(value)))
                .voice_sentiment
                .map(|s| s.to_string())
                .as_deref(),
            Some(good)
        );
    }
    for bad in [-1.01, 1.5, 42.0] {
        let r = reject(&edit("metrics.voice_sentiment", Some(json!(bad))));
        assert_eq!(
            (r.code, r.path.as_str()),
            (RejectCode::InvalidValue, "metrics.voice_sentiment")
        );
    }
}

#[test]
fn numbers_keep_the_digits_that_were_sent_up_to_nine_decimal_places() {
    for (sent, kept) in [
        ("5.50", "5.50"),
        ("312.5", "312.5"),
        ("0.1", "0.1"),
        ("1e2", "100"),
        ("2.5E-1", "0.25"),
        ("0.30000000000000004", "0.3"),
        ("1.0000000005", "1"),
        ("1.0000000015", "1.000000002"),
        ("0.0000000001", "0"),
    ] {
        let text = base().to_string().replace("312.5", sent);
        let event = accept(&text);
        assert_eq!(event.talked_time.to_string(), kept, "{sent}");
    }
    // Sums of exact decimals do not depend on the order of the terms.
    let terms: Vec<Decimal> = ["0.1", "0.2", "5444.099999999", "0.3"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    let forward: Decimal = terms.iter().sum();
    let backward: Decimal = terms.iter().rev().sum();
    assert_eq!(forward.to_string(), backward.to_string());
}

#[test]
fn timestamps_accept_offsets_and_epoch_seconds() {
    for (value, expected) in [
        (
            json!("2026-11-23T09:00:00Z"),
            micros("2026-11-23T09:00:00Z"),
        ),
        (
            json!("2026-11-23T10:00:00+01:00"),
            micros("2026-11-23T09:00:00Z"),
        ),
        (
            json!("2026-11-23T04:30:00-04:30"),
            micros("2026-11-23T09:00:00Z"),
        ),
        (
            json!("2026-11-23t09:00:00z"),
            micros("2026-11-23T09:00:00Z"),
        ),
        (
            json!("2026-11-23T09:00:00.1234565Z"),
            micros("2026-11-23T09:00:00.123457Z"),
        ),
        (json!(1_795_424_400), micros("2026-11-23T09:00:00Z")),
        (json!(1_795_424_400.25), micros("2026-11-23T09:00:00.25Z")),
        (json!(0), 0),
    ] {
        let event = accept(&edit("session.started_at", Some(value.clone())));
        assert_eq!(event.started_at.unix_micros, expected, "{value}");
    }
}

#[test]
fn a_timestamp_without_offset_is_ambiguous() {
    for naive in [
        "2026-11-23T09:00:00",
        "2026-11-23 09:00:00",
        "2026-11-23T09:00:00.5",
    ] {
        for path in ["recorded_at", "session.started_at", "session.ended_at"] {
            let r = reject(&edit(path, Some(json!(naive))));
            assert_eq!(
                (r.code, r.path.as_str()),
                (RejectCode::InvalidTimestamp, path)
            );
            assert_eq!(
                r.message,
                format!("{path}: time has no UTC offset (add Z or +hh:mm), got \"{naive}\"")
            );
        }
    }
}

#[test]
fn malformed_timestamps_are_invalid_timestamps() {
    for bad in [
        "yesterday",
        "",
        "2026-11-23",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-23T25:00:00Z",
        "2026-11-23T09:00:00+25:00",
        "23/11/2026 09:00",
        "2026-11-23T09:00:00Zjunk",
    ] {
        let r = reject(&edit("session.started_at", Some(json!(bad))));
        assert_eq!(
            (r.code, r.path.as_str()),
            (RejectCode::InvalidTimestamp, "session.started_at"),
            "{bad:?}"
        );
    }
}

#[test]
fn timestamps_before_1970_or_after_9999_are_out_of_range() {
    for bad in [
        json!("1969-12-31T23:59:59Z"),
        json!("1970-01-01T00:30:00+01:00"),
        json!(-1),
        json!(253_402_300_800u64),
        json!(1e300),
    ] {
        let r = reject(&edit("session.started_at", Some(bad.clone())));
        assert_eq!(
            (r.code, r.path.as_str()),
            (RejectCode::InvalidValue, "session.started_at"),
            "{bad}"
        );
        assert!(
            r.message
                .contains("expected a time from 1970-01-01T00:00:00Z"),
            "{}",
            r.message
        );
    }
    let last = accept(&edit(
        "recorded_at",
        Some(json!("9999-12-31T23:59:59.999999Z")),
    ));
    assert_eq!(
        last.recorded_at.unwrap().unix_micros,
        253_402_300_799_999_999
    );
}

#[test]
fn ended_at_must_not_be_before_started_at() {
    let r = reject(&edit(
        "session.ended_at",
        Some(json!("2026-11-23T08:59:59Z")),
    ));
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "session.ended_at")
    );
    assert_eq!(
        r.message,
        "session.ended_at: must not be before session.started_at \
         (2026-11-23T08:59:59Z is before 2026-11-23T09:00:00Z)"
    );
    let same = accept(&edit(
        "session.ended_at",
        Some(json!("2026-11-23T09:00:00Z")),
    ));
    assert_eq!(same.ended_at, Some(same.started_at));
}

#[test]
fn device_strings_are_bounded_and_the_object_is_at_most_4_kb() {
    let r = reject(&edit(
        "session.device",
        Some(json!({"os": "x".repeat(257)})),
    ));
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "session.device.os")
    );
    let r = reject(&edit(
        "session.device",
        Some(json!({"notes": "x".repeat(5000)})),
    ));
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "session.device")
    );
}

#[test]
fn the_first_problem_in_contract_order_wins() {
    let mut event = base();
    event["metrics"]["talked_time"] = json!(-1);
    event["user"]["email"] = json!("nope");
    assert_eq!(reject(&event.to_string()).path, "user.email");
    event["bogus"] = json!(1);
    assert_eq!(reject(&event.to_string()).code, RejectCode::UnknownField);
}

#[test]
fn duplicate_keys_keep_the_last_value_like_jsonb() {
    let text = base().to_string().replacen(
        "\"talked_time\":312.5",
        "\"talked_time\":-1,\"talked_time\":7",
        1,
    );
    assert!(text.contains("\"talked_time\":-1"), "{text}");
    assert_eq!(accept(&text).talked_time, Decimal::from(7));
}

#[test]
fn deeply_nested_values_are_rejected_without_recursion() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let text = base().to_string().replace("312.5", &deep);
    let r = reject(&text);
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidType, "metrics.talked_time")
    );
    let device = format!("{{\"id\":\"x\",\"junk\":{deep}}}");
    let r = reject(
        &base()
            .to_string()
            .replace(&base()["session"]["device"].to_string(), &device),
    );
    assert_eq!(
        (r.code, r.path.as_str()),
        (RejectCode::InvalidValue, "session.device")
    );
}

#[test]
fn event_id_hint_reads_ids_from_invalid_events() {
    let raw: &RawValue = serde_json::from_str(r#"{"event_id":"e-9","metrics":1}"#).unwrap();
    assert_eq!(event_id_hint(raw).as_deref(), Some("e-9"));
    let raw: &RawValue = serde_json::from_str(r#"{"event_id":9}"#).unwrap();
    assert_eq!(event_id_hint(raw), None);
    let raw: &RawValue = serde_json::from_str("[1]").unwrap();
    assert_eq!(event_id_hint(raw), None);
}

#[test]
fn payloads_are_one_object_or_an_array() {
    assert_eq!(split_payload(r#"{"a":1}"#).unwrap().len(), 1);
    let many = split_payload(r#"[{"a":1}, 2, [3], "x"]"#).unwrap();
    assert_eq!(
        many.iter().map(|e| e.get()).collect::<Vec<_>>(),
        vec![r#"{"a":1}"#, "2", "[3]", "\"x\""]
    );
    assert!(split_payload("[]").unwrap().is_empty());
    for (text, kind) in [
        ("1", JsonKind::Number),
        ("\"x\"", JsonKind::String),
        ("null", JsonKind::Null),
        ("true", JsonKind::Boolean),
    ] {
        assert_eq!(
            split_payload(text).unwrap_err(),
            PayloadError::NotObjectOrArray(kind)
        );
    }
    assert_eq!(
        split_payload("1").unwrap_err().to_string(),
        "events must be a JSON object or an array of objects, got a number"
    );
}

#[test]
fn reject_codes_have_stable_names() {
    let names: Vec<&str> = RejectCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "not_an_object",
            "missing_field",
            "invalid_type",
            "invalid_value",
            "invalid_timestamp",
            "unknown_field",
            "user_key_collision"
        ]
    );
}

#[test]
fn payloads_over_the_limits_are_refused_before_parsing() {
    let events = format!("[{}]", vec!["{}"; MAX_EVENTS + 1].join(","));
    assert!(
        matches!(split_payload(&events), Err(PayloadError::TooManyEvents(n)) if n == MAX_EVENTS + 1)
    );
    let at_limit = format!("[{}]", vec!["{}"; MAX_EVENTS].join(","));
    assert_eq!(split_payload(&at_limit).unwrap().len(), MAX_EVENTS);
    // Too large is decided on the length alone: this text is not even JSON.
    let huge = "x".repeat(MAX_PAYLOAD_BYTES + 1);
    let Err(error) = split_payload(&huge) else {
        panic!("a payload over the limit was accepted");
    };
    assert_eq!(error, PayloadError::TooLarge(MAX_PAYLOAD_BYTES + 1));
    assert!(error.is_limit());
    assert!(
        error.to_string().contains("send smaller batches"),
        "{error}"
    );
}

#[test]
fn the_size_limit_counts_compact_json_not_the_spaces_jsonb_out_adds() {
    // PostgreSQL's text of a jsonb has a space after every ':' and ','. Spaces
    // inside strings are data and count.
    let body = vec![r#"{"a": 1, "b": [true, null], "c": "x y \" z"}"#; 50_000].join(", ");
    let spaced = |pad: usize| format!(r#"[{body}, {{"pad": "{}"}}]"#, " ".repeat(pad));
    let compact = |text: &str| {
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(text).unwrap())
            .unwrap()
            .len()
    };
    let pad = MAX_PAYLOAD_BYTES - compact(&spaced(0));

    let at_limit = spaced(pad);
    assert!(at_limit.len() > MAX_PAYLOAD_BYTES);
    assert_eq!(compact_len(&at_limit), MAX_PAYLOAD_BYTES);
    assert_eq!(compact(&at_limit), MAX_PAYLOAD_BYTES);
    assert_eq!(split_payload(&at_limit).unwrap().len(), 50_001);

    let over = spaced(pad + 1);
    assert_eq!(
        split_payload(&over).unwrap_err(),
        PayloadError::TooLarge(MAX_PAYLOAD_BYTES + 1)
    );
}
