use pgrx::prelude::*;
use pgrx::JsonB;

use super::to_jsonb;
use crate::error::{OrRaise, Result};
use crate::guards;
use crate::ingest;
use crate::storage;

/// Validates and ingests these quarantined events again, as if just sent. Those
/// stored now, or found to repeat a stored event, leave the quarantine; the others
/// stay with their new reason. Returns `{"replayed", "accepted", "duplicates",
/// "rejected", "errors": [{"id", "code", "message"}], "not_found"}`.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn replay_rejected(ids: Vec<Option<i64>>) -> JsonB {
    replay(ids).or_raise()
}

fn replay(ids: Vec<Option<i64>>) -> Result<JsonB> {
    guards::writable("replay_rejected")?;
    storage::lock_written_tables();
    let ids: Vec<i64> = ids.into_iter().flatten().collect();
    to_jsonb(&ingest::replay(&ids)?)
}

/// Removes these quarantined events for good. Returns how many were removed.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn discard_rejected(ids: Vec<Option<i64>>) -> i64 {
    guards::writable("discard_rejected").or_raise();
    storage::lock_written_tables();
    let ids: Vec<i64> = ids.into_iter().flatten().collect();
    storage::quarantine::discard(&ids).or_raise()
}
