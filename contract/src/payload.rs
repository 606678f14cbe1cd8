//! The argument of `ingest_metrics`: one event object, or an array of them.

use serde_json::value::RawValue;
use std::fmt;

use crate::json::JsonKind;

/// Why a whole payload (not one event in it) cannot be ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// The payload is a string, number, boolean or null.
    NotObjectOrArray(JsonKind),
    /// The text is not JSON; it cannot happen for text produced by jsonb.
    Malformed(String),
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
        }
    }
}

impl std::error::Error for PayloadError {}

/// Splits a payload into its events, each left as unparsed JSON text.
/// A single object is a batch of one; the elements of an array keep their order.
/// Elements are scanned, not parsed, so this is linear in the size of the text.
pub fn split_payload(text: &str) -> Result<Vec<&RawValue>, PayloadError> {
    let whole: &RawValue =
        serde_json::from_str(text).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    match JsonKind::of(whole) {
        JsonKind::Object => Ok(vec![whole]),
        JsonKind::Array => {
            serde_json::from_str(whole.get()).map_err(|e| PayloadError::Malformed(e.to_string()))
        }
        other => Err(PayloadError::NotObjectOrArray(other)),
    }
}
