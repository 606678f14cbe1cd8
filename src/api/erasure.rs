use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::error::{Error, OrRaise};
use crate::guards;
use crate::storage;

/// Erases a user (the right to erasure): their user row, sessions and events, and
/// every quarantined event whose payload holds the address in any form. Keeps one
/// audit row in forgotten_users without the address or the name, and from then on
/// refuses, without keeping them, the user's events of sessions that started
/// before the erasure. Returns what it removed.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn forget_user(email: Option<&str>) -> JsonB {
    guards::writable("forget_user").or_raise();
    let email = email.ok_or(Error::NullArgument("email")).or_raise();
    let erased = storage::forget_user(email).or_raise();
    JsonB(json!({
        "user_key": erased.user_key,
        "users": erased.users,
        "sessions": erased.sessions,
        "events": erased.events,
        "quarantined": erased.quarantined,
        "forgotten_at": erased.forgotten_at.to_iso_string(),
    }))
}
