use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::JsonB;

use crate::error::OrRaise;
use crate::reports;
use crate::sql::ResultRow;

/// The quarantine, latest arrival first: rejected events that arrived (last) at or
/// after `since` (NULL: all), at most `max_rows` of them, each with its payload as
/// sent, how many times it arrived and when it last did.
// pgrx reads the column names from the signature, so the row type cannot be an alias.
#[allow(clippy::type_complexity)]
#[pg_extern(stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn list_rejected_events(
    since: default!(Option<TimestampWithTimeZone>, "NULL"),
    max_rows: default!(i32, 100),
) -> TableIterator<
    'static,
    (
        name!(id, i64),
        name!(received_at, TimestampWithTimeZone),
        name!(batch_index, i32),
        name!(event_id, Option<String>),
        name!(error_code, String),
        name!(error_message, String),
        name!(payload, JsonB),
        name!(times_received, i64),
        name!(last_received_at, TimestampWithTimeZone),
    ),
> {
    let rows = reports::rejected_events(since, max_rows).or_raise();
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}
