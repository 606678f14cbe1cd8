//! The argument of `ingest_metrics`: one event object, or an array of them.

use serde_json::value::RawValue;
use std::fmt;

use crate::json::JsonKind;

/// The largest payload one call accepts, in bytes of compact JSON text (see
/// `compact_len`): room for 100,000 events of several hundred bytes each.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024 * 1024;
/// The most events one call accepts.
pub const MAX_EVENTS: usize = 100_000;

/// Why a whole payload (not one event in it) cannot be ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// The payload is a string, number, boolean or null.
    NotObjectOrArray(JsonKind),
    /// The text is not JSON; it cannot happen for text produced by jsonb.
    Malformed(String),
    /// More than `MAX_PAYLOAD_BYTES` of compact JSON text.
    TooLarge(usize),
    /// More than `MAX_EVENTS` events.
    TooManyEvents(usize),
}

impl PayloadError {
    /// Whether the payload broke a size limit (rather than the contract's shape).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            PayloadError::TooLarge(_) | PayloadError::TooManyEvents(_)
        )
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::NotObjectOrArray(kind) => write!(
                f,
                "events must be a JSON object or an array of objects, got {}",
                kind.with_article()
            ),
            PayloadError::Malformed(reason) => write!(f, "events is not valid JSON: {reason}"),
            PayloadError::TooLarge(bytes) => write!(
                f,
                "events is {bytes} bytes of compact JSON, more than the limit of {MAX_PAYLOAD_BYTES}; send smaller batches"
            ),
            PayloadError::TooManyEvents(count) => write!(
                f,
                "events holds {count} events, more than the limit of {MAX_EVENTS}; send smaller batches"
            ),
        }
    }
}

impl std::error::Error for PayloadError {}

/// Splits a payload into its events, each left as unparsed JSON text.
/// A single object is a batch of one; the elements of an array keep their order.
/// Elements are scanned, not parsed, so this is linear in the size of the text.
/// The size limits are checked first: an oversized payload costs no parsing.
pub fn split_payload(text: &str) -> Result<Vec<&RawValue>, PayloadError> {
    // The compact length is never more than the length, so only a text over the
    // limit needs counting.
    if text.len() > MAX_PAYLOAD_BYTES {
        let compact = compact_len(text);
        if compact > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge(compact));
        }
    }
    let whole: &RawValue =
        serde_json::from_str(text).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    let events: Vec<&RawValue> = match JsonKind::of(whole) {
        JsonKind::Object => vec![whole],
        JsonKind::Array => {
            serde_json::from_str(whole.get()).map_err(|e| PayloadError::Malformed(e.to_string()))?
        }
        other => return Err(PayloadError::NotObjectOrArray(other)),
    };
    if events.len() > MAX_EVENTS {
        return Err(PayloadError::TooManyEvents(events.len()));
    }
    Ok(events)
}

/// The length in bytes of `text` without the whitespace between JSON tokens: what a
/// client that serializes compactly sends (`json.dumps(events, separators=(",", ":"),
/// ensure_ascii=False)` in Python, `JSON.stringify` in JavaScript). The limit is
/// measured on this and not on the text itself, because the text the extension
/// receives is PostgreSQL's re-serialization of the jsonb, which puts a space after
/// every `:` and `,`; the client cannot see that text, only what it sent.
pub fn compact_len(text: &str) -> usize {
    let mut whitespace = 0;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if byte == b'"' {
            in_string = true;
        } else if matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
            whitespace += 1;
        }
    }
    text.len() - whitespace
}
