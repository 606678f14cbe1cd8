//! Random payloads for fuzzing the contract and for property tests of the
//! extension: any JSON, valid events, valid events with fields broken, and
//! addresses that only fit the limits before or after normalization.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

pub const KEYS: &[&str] = &[
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
pub fn any_json() -> impl Strategy<Value = Value> {
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

pub fn valid_event() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9-]{1,20}",
        email(),
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
pub fn mutated_event() -> impl Strategy<Value = Value> {
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

/// Addresses as clients send them: ASCII in any case, and Unicode that case
/// folding and normalization change (İ grows, ß becomes ss, final ς, combining
/// marks), short enough to be valid however they fold.
pub fn email() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z]{1,10}@[a-z]{1,10}\\.(com|org|ÉU)",
        "[a-zA-ZİßΣςëé\u{0308}]{1,60}@[a-zΣΟ]{1,20}\\.(com|ΕΛ)",
        address(),
    ]
}

/// Characters of a local part: ASCII letters, digits and every special of
/// RFC 5322's atext, and characters beyond ASCII (some that case folding or
/// normalization change).
const ATEXT: &str = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~ßİΣëе\u{0308}用-]";
/// Characters of a domain label other than the hyphen.
const LABEL: &str = "[a-zA-Z0-9äÜΟ用]";

/// Addresses the contract accepts, drawn from its whole grammar: dot-atoms of
/// every atext character, labels with inner hyphens, one to four labels.
pub fn address() -> impl Strategy<Value = String> {
    let atom = format!("{ATEXT}{{1,10}}");
    let label = format!("{LABEL}([a-zA-Z0-9äÜΟ用-]{{0,6}}{LABEL})?");
    (
        prop::collection::vec(proptest::string::string_regex(&atom).unwrap(), 1..4),
        prop::collection::vec(proptest::string::string_regex(&label).unwrap(), 1..5),
    )
        .prop_map(|(atoms, labels)| format!("{}@{}", atoms.join("."), labels.join(".")))
}

/// What is not an address but is typed as one: a scheme, a display name, a
/// comment, quotes, spaces and other whitespace, a control character, dots and
/// hyphens where they may not be, a second @, an address literal, a special
/// character anywhere.
pub fn not_an_address() -> impl Strategy<Value = String> {
    let edits = prop_oneof![
        Just("mailto:{}"),
        Just("Ana Lima <{}>"),
        Just("<{}>"),
        Just("{} (home)"),
        Just(" {}"),
        Just("{}\u{a0}"),
        Just("{}\u{3000}"),
        Just("{}\t"),
        Just("{}."),
        Just(".{}"),
        Just("@{}"),
        Just("{}@x"),
    ];
    prop_oneof![
        (address(), edits).prop_map(|(a, edit)| edit.replace("{}", &a)),
        (
            address(),
            any::<prop::sample::Index>(),
            prop::sample::select(
                &[
                    ' ', '"', '(', ')', ',', ':', ';', '<', '>', '[', ']', '\\', '@', '\u{85}',
                    '\u{2028}', '\u{7f}'
                ][..]
            )
        )
            .prop_map(|(a, at, c)| {
                let chars: Vec<char> = a.chars().collect();
                let at = at.index(chars.len() + 1);
                chars[..at]
                    .iter()
                    .chain([c].iter())
                    .chain(chars[at..].iter())
                    .collect()
            }),
        address().prop_map(|a| a.replacen('@', ".@", 1)),
        address().prop_map(|a| a.replacen('@', "@.", 1)),
        address().prop_map(|a| a.replacen('@', "@-", 1)),
        address().prop_map(|a| format!("{}-", a)),
        address().prop_map(|a| format!("{}[192.0.2.1]", &a[..=a.find('@').unwrap()])),
        address().prop_map(|a| format!(
            "\"{}\"{}",
            &a[..a.find('@').unwrap()],
            &a[a.find('@').unwrap()..]
        )),
    ]
}

/// Addresses and near misses, half and half.
pub fn address_or_not() -> impl Strategy<Value = String> {
    prop_oneof![address(), not_an_address()]
}

/// Addresses around the 254-character limit, valid or not depending on how far
/// normalization moves them: `İ` folds to two characters, `e` + U+0308 composes
/// to one.
pub fn long_email() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["İ", "ß", "a", "e\u{0308}", "Σ"][..]),
        100usize..260,
    )
        .prop_map(|(unit, n)| format!("{}@example.com", unit.repeat(n)))
}

/// A valid event whose e-mail is drawn from `long_email`.
pub fn long_email_event() -> impl Strategy<Value = Value> {
    (valid_event(), long_email()).prop_map(|(mut event, email)| {
        event["user"]["email"] = json!(email);
        event
    })
}
