//! The event contract, checked field by field.
//!
//! Checks run in a fixed order and the first problem wins, so one bad event always
//! gets the same code: unknown keys of an object before its fields, then the fields
//! in the order the contract lists them (event_id, recorded_at, user, session,
//! metrics), then `ended_at` against `started_at`.

use rust_decimal::{Decimal, RoundingStrategy};
use std::borrow::Cow;

use crate::email::normalize_email;
use crate::email_syntax::check_address;
use crate::event::*;
use crate::json::{quote, Json, JsonKind, Object, Path};
use crate::rejection::{RejectCode, Rejection};
use crate::timestamp::{parse_timestamp, Timestamp};

const EVENT_FIELDS: [&str; 5] = ["event_id", "recorded_at", "user", "session", "metrics"];
const USER_FIELDS: [&str; 2] = ["email", "name"];
const SESSION_FIELDS: [&str; 4] = ["id", "started_at", "ended_at", "device"];
const METRICS_FIELDS: [&str; 4] = [
    "talked_time",
    "microphone_used",
    "speaker_used",
    "voice_sentiment",
];

/// Validates one event (as JSON text, `&RawValue`, or any other `Json`).
pub fn parse_event<'a, J: Json<'a>>(raw: J) -> Result<Event<'a>, Rejection> {
    let event = Object::read(raw, "")?;
    event.reject_unknown(&EVENT_FIELDS)?;

    let event_id = optional(&event, "event_id", id_string)?;
    let recorded_at = optional(&event, "recorded_at", parse_timestamp)?;

    let user = Object::read(required(&event, "user")?, "user")?;
    user.reject_unknown(&USER_FIELDS)?;
    let email = email(required(&user, "email")?, Path::named("user.email"))?;
    let name = optional(&user, "name", |v, p| bounded_string(v, p, MAX_TEXT_CHARS))?
        .filter(|name| !name.is_empty());

    let session = Object::read(required(&event, "session")?, "session")?;
    session.reject_unknown(&SESSION_FIELDS)?;
    let session_id = id_string(required(&session, "id")?, Path::named("session.id"))?;
    let started_at = parse_timestamp(
        required(&session, "started_at")?,
        Path::named("session.started_at"),
    )?;
    let ended_at = optional(&session, "ended_at", parse_timestamp)?;
    let device = optional(&session, "device", device)?;

    let metrics = Object::read(required(&event, "metrics")?, "metrics")?;
    metrics.reject_unknown(&METRICS_FIELDS)?;
    let talked_time = decimal_in(
        required(&metrics, "talked_time")?,
        Path::named("metrics.talked_time"),
        Decimal::ZERO,
        Decimal::from(MAX_TALKED_SECONDS),
    )?;
    let microphone_used = optional(&metrics, "microphone_used", boolean)?;
    let speaker_used = optional(&metrics, "speaker_used", boolean)?;
    let voice_sentiment = optional(&metrics, "voice_sentiment", |v, p| {
        decimal_in(v, p, Decimal::NEGATIVE_ONE, Decimal::ONE)
    })?;

    if let Some(end) = ended_at {
        check_not_before(end, started_at)?;
    }

    Ok(Event {
        event_id,
        recorded_at,
        email,
        name,
        session_id,
        started_at,
        ended_at,
        device,
        talked_time,
        microphone_used,
        speaker_used,
        voice_sentiment,
    })
}

/// The `event_id` of an event that may be invalid, for error reports:
/// present only when the event is an object whose `event_id` is a string.
pub fn event_id_hint<'a, J: Json<'a>>(raw: J) -> Option<String> {
    let event = Object::read(raw, "").ok()?;
    let value = event.get("event_id")?;
    if value.kind() != JsonKind::String {
        return None;
    }
    value.string().ok().map(Cow::into_owned)
}

fn required<'a, J: Json<'a>>(object: &Object<'a, J>, key: &str) -> Result<J, Rejection> {
    object.get(key).ok_or_else(|| {
        Rejection::new(
            RejectCode::MissingField,
            object.child_path(key),
            "required field is missing",
        )
    })
}

fn optional<'a, J: Json<'a>, T>(
    object: &Object<'a, J>,
    key: &str,
    read: impl FnOnce(J, Path<'_>) -> Result<T, Rejection>,
) -> Result<Option<T>, Rejection> {
    match object.get(key) {
        None => Ok(None),
        Some(value) => read(value, object.child_path(key)).map(Some),
    }
}

fn expect_kind<'a>(raw: impl Json<'a>, path: Path<'_>, want: JsonKind) -> Result<(), Rejection> {
    let got = raw.kind();
    if got == want {
        Ok(())
    } else {
        Err(Rejection::new(
            RejectCode::InvalidType,
            path,
            format!(
                "expected {}, got {}",
                want.with_article(),
                got.with_article()
            ),
        ))
    }
}

fn string<'a>(raw: impl Json<'a>, path: Path<'_>) -> Result<Cow<'a, str>, Rejection> {
    expect_kind(raw, path, JsonKind::String)?;
    raw.string()
        .map_err(|e| Rejection::new(RejectCode::InvalidValue, path, format!("bad string: {e}")))
}

fn bounded_string<'a>(
    raw: impl Json<'a>,
    path: Path<'_>,
    max_chars: usize,
) -> Result<Cow<'a, str>, Rejection> {
    let text = string(raw, path)?;
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(Rejection::new(
            RejectCode::InvalidValue,
            path,
            format!("expected at most {max_chars} characters, got {chars}"),
        ));
    }
    Ok(text)
}

/// `event_id` and `session.id`: non-empty, at most 128 characters.
fn id_string<'a>(raw: impl Json<'a>, path: Path<'_>) -> Result<Cow<'a, str>, Rejection> {
    let id = bounded_string(raw, path, MAX_ID_CHARS)?;
    if id.is_empty() {
        return Err(Rejection::new(
            RejectCode::InvalidValue,
            path,
            "expected a non-empty string",
        ));
    }
    Ok(id)
}

/// An e-mail address by the rule of `email_syntax` (RFC 5321/5322 with RFC 6531's
/// Unicode: dot-atom local part, a domain of labels; no scheme, display name or
/// spaces), returned in its stored form (see `normalize_email`), which must be at
/// most 254 characters. The length and the syntax are checked on the form that is
/// stored.
fn email<'a>(raw: impl Json<'a>, path: Path<'_>) -> Result<Cow<'a, str>, Rejection> {
    // Normalizing can shrink an address (combining marks compose) as well as grow
    // it (`İ` folds to two characters), so the text as sent only gets a bound that
    // spares normalizing megabytes; the real limit applies to the stored form.
    let too_long = |chars: usize| {
        Rejection::new(
            RejectCode::InvalidValue,
            path,
            format!("expected at most {MAX_EMAIL_CHARS} characters once case-folded and normalized, got {chars}"),
        )
    };
    let sent = string(raw, path)?;
    let sent_chars = sent.chars().count();
    if sent_chars > 4 * MAX_EMAIL_CHARS {
        return Err(too_long(sent_chars));
    }
    let address = match sent {
        Cow::Borrowed(text) => normalize_email(text),
        Cow::Owned(text) => Cow::Owned(normalize_email(&text).into_owned()),
    };
    let chars = address.chars().count();
    if chars > MAX_EMAIL_CHARS {
        return Err(too_long(chars));
    }
    if let Err(problem) = check_address(&address) {
        return Err(Rejection::new(
            RejectCode::InvalidValue,
            path,
            format!(
                "expected an email address such as name@example.com: {problem}, got {}",
                quote(raw)
            ),
        ));
    }
    Ok(address)
}

fn boolean<'a>(raw: impl Json<'a>, path: Path<'_>) -> Result<bool, Rejection> {
    expect_kind(raw, path, JsonKind::Boolean)?;
    Ok(raw.boolean())
}

/// A number in `[min, max]`, as an exact decimal with the digits that were sent
/// (`5.50` stays `5.50`), rounded half to even beyond `MAX_DECIMAL_PLACES`. The
/// JSON text is read here rather than through a double, so sums of these values
/// are the same whatever the order of the events, and numbers beyond any limit
/// (`1e400`) are reported as out of range.
fn decimal_in<'a>(
    raw: impl Json<'a>,
    path: Path<'_>,
    min: Decimal,
    max: Decimal,
) -> Result<Decimal, Rejection> {
    expect_kind(raw, path, JsonKind::Number)?;
    let text = raw.number();
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text).or_else(|_| text.parse::<Decimal>())
    };
    let in_range = parsed.ok().map(|mut value| {
        if value.scale() > MAX_DECIMAL_PLACES {
            value = value
                .round_dp_with_strategy(MAX_DECIMAL_PLACES, RoundingStrategy::MidpointNearestEven)
                .normalize();
        }
        // -0 and 0 are one value; only 0 is ever shown.
        value.set_sign_positive(value.is_sign_positive() || value.is_zero());
        value
    });
    match in_range {
        Some(value) if value >= min && value <= max => Ok(value),
        _ => Err(Rejection::new(
            RejectCode::InvalidValue,
            path,
            format!("expected a number from {min} to {max}, got {}", quote(raw)),
        )),
    }
}

/// `session.device`: an object of at most 4 KB whose known fields are strings;
/// kept as the JSON text that was sent.
fn device<'a>(raw: impl Json<'a>, path: Path<'_>) -> Result<Cow<'a, str>, Rejection> {
    let device = Object::read(raw, "session.device")?;
    for field in DEVICE_STRING_FIELDS {
        if let Some(value) = device.get(field) {
            bounded_string(value, device.child_path(field), MAX_TEXT_CHARS)?;
        }
    }
    let text = raw.text();
    if text.len() > MAX_DEVICE_BYTES {
        return Err(Rejection::new(
            RejectCode::InvalidValue,
            path,
            format!(
                "expected at most {MAX_DEVICE_BYTES} bytes of JSON, got {}",
                text.len()
            ),
        ));
    }
    Ok(Cow::Borrowed(text))
}

fn check_not_before(end: Timestamp, start: Timestamp) -> Result<(), Rejection> {
    if end >= start {
        Ok(())
    } else {
        Err(Rejection::new(
            RejectCode::InvalidValue,
            "session.ended_at",
            format!("must not be before session.started_at ({end} is before {start})"),
        ))
    }
}
