use pgrx::prelude::*;
use pgrx::JsonB;

use super::{to_jsonb, JsonbArg};
use crate::error::{Error, OrRaise, Result};
use crate::guards;
use crate::ingest::{ingest, OnError};
use crate::storage;

/// Ingests one metrics event (a JSON object) or an array of them.
///
/// Returns `{"accepted": A, "duplicates": D, "rejected": R, "errors": [...]}`.
/// With `on_error => 'quarantine'` (the default) invalid events are kept in
/// `user_metrics.rejected_events` and the valid ones stored; with
/// `on_error => 'raise'` the first invalid event raises SQLSTATE 22023 and
/// nothing is stored.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn ingest_metrics(
    events: Option<JsonbArg<'_>>,
    on_error: default!(Option<&str>, "'quarantine'"),
) -> JsonB {
    run(events, on_error).or_raise()
}

fn run(events: Option<JsonbArg<'_>>, on_error: Option<&str>) -> Result<JsonB> {
    guards::writable("ingest_metrics")?;
    storage::lock_written_tables();
    let events = events.ok_or(Error::NullArgument("events"))?;
    let on_error = OnError::parse(on_error.ok_or(Error::NullArgument("on_error"))?)?;
    guards::utf8_database()?;
    to_jsonb(&ingest(events.root(), events.size(), on_error)?)
}
