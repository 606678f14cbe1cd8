//! What a duplicate key in one of the extension's tables means, for the HINT of
//! its error. The extension never writes an id itself and settles every other
//! key with `INSERT ... ON CONFLICT`, so a unique violation inside a call has one
//! of two causes, told apart by the key.

use pgrx::prelude::*;
use std::ffi::CStr;

/// The primary keys that hold an identity column: a duplicate there means that
/// the table's sequence is behind the ids the table holds.
const IDENTITY_KEYS: [&CStr; 4] = [
    c"events_pkey",
    c"forgotten_users_pkey",
    c"rejected_events_pkey",
    c"sessions_pkey",
];

/// The keys that concurrent calls may both insert, settled by ON CONFLICT. ON
/// CONFLICT settles a key only against the index it chose when the statement
/// started: while `REINDEX ... CONCURRENTLY` builds a copy of the index (or has
/// just swapped it in), two calls inserting the same new key at once can meet in
/// the other copy, which raises the duplicate instead.
const UPSERT_KEYS: [&CStr; 4] = [
    c"events_event_id_key",
    c"rejected_events_payload_key",
    c"sessions_client_session_id_key",
    c"users_pkey",
];

pub const RESYNC: &CStr = c"The table's identity sequence is behind the ids the table holds, as after a restore that did not carry the sequence's position (pg_dump -t, logical replication). SELECT * FROM user_metrics.resync_sequences() (as user_metrics_admin) moves each sequence past its table's ids; then call again.";

pub const RETRY_AFTER_REINDEX: &CStr = c"Another call stored the same key at the same moment while REINDEX ... CONCURRENTLY was rebuilding this index, which INSERT ... ON CONFLICT does not settle. Nothing of this call was stored: call again.";

/// The HINT for an error raised inside a call, when it is a duplicate key of one
/// of the extension's tables.
pub fn hint(
    sqlerrcode: i32,
    schema: Option<&CStr>,
    constraint: Option<&CStr>,
) -> Option<&'static CStr> {
    if PgSqlErrorCode::from(sqlerrcode) != PgSqlErrorCode::ERRCODE_UNIQUE_VIOLATION
        || schema != Some(c"user_metrics")
    {
        return None;
    }
    let name = constraint?.to_bytes();
    if IDENTITY_KEYS.iter().any(|key| key.to_bytes() == name) {
        return Some(RESYNC);
    }
    let original = before_reindex_suffix(name);
    UPSERT_KEYS
        .iter()
        .any(|key| key.to_bytes() == original)
        .then_some(RETRY_AFTER_REINDEX)
}

/// The name of the index that `REINDEX ... CONCURRENTLY` copies: it names the new
/// copy `<name>_ccnew` and, once swapped, the old one `<name>_ccold`, with a
/// number after when that name is taken.
fn before_reindex_suffix(name: &[u8]) -> &[u8] {
    let digits = name.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let stem = &name[..name.len() - digits];
    stem.strip_suffix(b"_ccnew")
        .or_else(|| stem.strip_suffix(b"_ccold"))
        .unwrap_or(name)
}
