use pgrx::prelude::*;
use pgrx::JsonB;

use crate::error::OrRaise;

/// `{"status": "ok", "version", "postgres", "users", "sessions", "events",
/// "rejected", "last_received_at"}`. Cheap at any size: the counts are estimates.
#[pg_extern(stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn health() -> JsonB {
    crate::reports::health().or_raise()
}
