use pgrx::prelude::*;
use pgrx::JsonB;

use super::to_jsonb;
use crate::error::{Error, OrRaise, Result};
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
    run(email).or_raise()
}

fn run(email: Option<&str>) -> Result<JsonB> {
    guards::writable("forget_user")?;
    storage::lock_written_tables();
    let email = email.ok_or(Error::NullArgument("email"))?;
    to_jsonb(&storage::forget_user(email)?)
}
