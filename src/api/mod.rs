//! The SQL surface of the extension: every `#[pg_extern]`, and nothing else.
//!
//! Each function is SECURITY DEFINER with a fixed `search_path`, so callers need
//! only EXECUTE on it, never rights on the tables, and cannot redirect the names
//! it uses. The work is done in `ingest`, `storage` and `reports`.

mod erasure;
mod health;
mod identity;
mod ingest;
mod jsonb_arg;
mod operations;
mod quarantine;
mod rejected;
mod reports;
mod retention;

pub use jsonb_arg::JsonbArg;

use pgrx::JsonB;
use serde::Serialize;

use crate::error::{Error, Result};

/// A function's result as the jsonb it returns.
fn to_jsonb(value: &impl Serialize) -> Result<JsonB> {
    serde_json::to_value(value)
        .map(JsonB)
        .map_err(|e| Error::Internal(format!("result not serializable: {e}")))
}
