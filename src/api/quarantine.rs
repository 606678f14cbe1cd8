use pgrx::prelude::*;
use pgrx::JsonB;

use crate::error::OrRaise;
use crate::guards;
use crate::ingest;

/// Validates and ingests these quarantined events again, as if just sent. Those
/// stored now, or found to repeat a stored event, leave the quarantine; the others
/// stay with their new reason. Returns `{"replayed", "accepted", "duplicates",
/// "rejected", "errors": [{"id", "code", "message"}], "not_found"}`.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn replay_rejected(ids: Vec<Option<i64>>) -> JsonB {
    guards::writable("replay_rejected").or_raise();
    let ids: Vec<i64> = ids.into_iter().flatten().collect();
    JsonB(ingest::replay(&ids).or_raise())
}

/// Removes these quarantined events for good. Returns how many were removed.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn discard_rejected(ids: Vec<Option<i64>>) -> i64 {
    guards::writable("discard_rejected").or_raise();
    let ids: Vec<i64> = ids.into_iter().flatten().collect();
    ingest::discard(&ids).or_raise()
}
