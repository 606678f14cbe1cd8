use pgrx::datum::Interval;
use pgrx::prelude::*;
use pgrx::JsonB;

use super::to_jsonb;
use crate::error::{Error, OrRaise, Result};
use crate::guards;
use crate::storage;

/// Retention: removes at most `max_sessions` of the oldest sessions that started
/// more than `older_than` ago, with their events, the users left without a
/// session, and at most as many quarantined events received more than
/// `older_than` ago. One bounded batch per call, so that its locks are short:
/// call it again while it answers `"more": true`, or schedule it (pg_cron).
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn purge(older_than: Option<Interval>, max_sessions: default!(Option<i32>, 10000)) -> JsonB {
    run(older_than, max_sessions).or_raise()
}

fn run(older_than: Option<Interval>, max_sessions: Option<i32>) -> Result<JsonB> {
    guards::writable("purge")?;
    storage::lock_written_tables();
    let older_than = older_than.ok_or(Error::NullArgument("older_than"))?;
    let max_sessions = max_sessions.ok_or(Error::NullArgument("max_sessions"))?;
    to_jsonb(&storage::purge(older_than, max_sessions)?)
}
