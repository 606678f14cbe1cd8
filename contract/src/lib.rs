//! The user_metrics event contract.
//!
//! One event is one JSON object describing a metrics report from a voice app: who
//! (`user`), which session on which device (`session`), and what was measured
//! (`metrics`). This crate turns the JSON text of a payload into validated
//! [`Event`]s or [`Rejection`]s with stable codes. It knows nothing of PostgreSQL:
//! storage and reports live in the extension crate.

mod batch;
mod email;
mod email_syntax;
mod event;
mod json;
mod mention;
mod payload;
mod rejection;
mod timestamp;
mod user_key;
mod validate;

#[cfg(feature = "generate")]
pub mod generate;

pub use batch::{classify, session_totals, Fate, SessionKey, SessionTotals};
pub use email::normalize_email;
pub use email_syntax::{check_address, AddressProblem};
pub use event::*;
pub use json::{Json, JsonKind, Path};
pub use mention::{json_mentions, mentions};
pub use payload::{compact_len, split_payload, PayloadError, MAX_EVENTS, MAX_PAYLOAD_BYTES};
pub use rejection::{RejectCode, Rejection};
pub use rust_decimal::Decimal;
pub use serde_json::value::RawValue;
pub use timestamp::Timestamp;
pub use user_key::user_key;
pub use validate::{event_id_hint, parse_event};
