//! Event timestamps: RFC 3339 text with an explicit offset, or Unix epoch seconds.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use std::fmt;

use crate::json::{quote, Json, JsonKind, Path};
use crate::rejection::{RejectCode, Rejection};

/// An instant, in microseconds since 1970-01-01T00:00:00Z (PostgreSQL keeps microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub unix_micros: i64,
}

/// The earliest instant accepted: the Unix epoch. Earlier times are client clock bugs.
pub const EARLIEST: Timestamp = Timestamp { unix_micros: 0 };
/// The first instant not accepted: year 10000, where four-digit RFC 3339 years end.
pub const END: Timestamp = Timestamp {
    unix_micros: 253_402_300_800_000_000,
};

impl Timestamp {
    pub fn from_unix_micros(unix_micros: i64) -> Timestamp {
        Timestamp { unix_micros }
    }

    fn in_range(self) -> bool {
        self >= EARLIEST && self < END
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp_micros(self.unix_micros) {
            Some(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => write!(f, "{} µs after the Unix epoch", self.unix_micros),
        }
    }
}

/// Reads the timestamp at `path` from a raw JSON value.
pub fn parse_timestamp<'a>(raw: impl Json<'a>, path: Path<'_>) -> Result<Timestamp, Rejection> {
    let instant = match raw.kind() {
        JsonKind::String => {
            let text = raw
                .string()
                .map_err(|e| Rejection::new(RejectCode::InvalidTimestamp, path, e))?;
            parse_rfc3339(&text, raw, path)?
        }
        JsonKind::Number => parse_epoch_seconds(raw, path)?,
        other => {
            return Err(Rejection::new(
                RejectCode::InvalidType,
                path,
                format!(
                    "expected an RFC 3339 string or Unix epoch seconds, got {}",
                    other.with_article()
                ),
            ))
        }
    };
    if instant.in_range() {
        Ok(instant)
    } else {
        Err(out_of_range(raw, path))
    }
}

fn parse_rfc3339<'a>(
    text: &str,
    raw: impl Json<'a>,
    path: Path<'_>,
) -> Result<Timestamp, Rejection> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => {
            let utc = t.with_timezone(&Utc);
            // Round sub-microsecond digits to the nearest microsecond, as PostgreSQL does.
            let micros =
                utc.timestamp_micros() + i64::from(utc.timestamp_subsec_nanos() % 1000 >= 500);
            Ok(Timestamp::from_unix_micros(micros))
        }
        Err(_) if is_naive(text) => Err(Rejection::new(
            RejectCode::InvalidTimestamp,
            path,
            format!(
                "time has no UTC offset (add Z or +hh:mm), got {}",
                quote(raw)
            ),
        )),
        Err(_) => Err(Rejection::new(
            RejectCode::InvalidTimestamp,
            path,
            format!(
                "expected an RFC 3339 time such as \"2026-11-23T09:00:00Z\", got {}",
                quote(raw)
            ),
        )),
    }
}

/// A date and time that would parse if only it had an offset.
fn is_naive(text: &str) -> bool {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .any(|format| NaiveDateTime::parse_from_str(text, format).is_ok())
}

fn parse_epoch_seconds<'a>(raw: impl Json<'a>, path: Path<'_>) -> Result<Timestamp, Rejection> {
    let seconds: f64 = raw.number().parse().map_err(|_| out_of_range(raw, path))?;
    let micros = (seconds * 1_000_000.0).round();
    // The bounds check happens on the float, before the cast could saturate.
    if !(micros >= EARLIEST.unix_micros as f64 && micros < END.unix_micros as f64) {
        return Err(out_of_range(raw, path));
    }
    Ok(Timestamp::from_unix_micros(micros as i64))
}

fn out_of_range<'a>(raw: impl Json<'a>, path: Path<'_>) -> Rejection {
    Rejection::new(
        RejectCode::InvalidValue,
        path,
        format!(
            "expected a time from {} up to (not including) {}, got {}",
            EARLIEST,
            "10000-01-01T00:00:00Z",
            quote(raw)
        ),
    )
}
