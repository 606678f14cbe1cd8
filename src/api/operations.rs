use pgrx::prelude::*;

use crate::error::OrRaise;
use crate::guards;
use crate::sql::ResultRow;
use crate::storage;

/// For the cut-over to a server that received the tables by logical
/// replication: moves each identity sequence of the extension's tables past the
/// largest id of its table, so that ingestion there does not hand out ids the
/// rows already hold. One row per sequence; `previous_value` and `new_value`
/// are its last value before and after (NULL while it handed out none).
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn resync_sequences() -> TableIterator<
    'static,
    (
        name!(table_name, String),
        name!(sequence_name, String),
        name!(max_id, Option<i64>),
        name!(previous_value, Option<i64>),
        name!(new_value, Option<i64>),
    ),
> {
    guards::writable("resync_sequences").or_raise();
    let rows = storage::resync_sequences().or_raise();
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}

/// The event trigger function of `user_metrics_drop_guard` (ddl_command_start,
/// DROP EXTENSION): refuses to drop user_metrics while its tables hold rows,
/// unless `user_metrics.allow_drop_with_data` is on. See `guards::drop_guard`.
#[pg_extern(sql = "
CREATE FUNCTION user_metrics.drop_guard() RETURNS event_trigger
    LANGUAGE c
    SET search_path TO pg_catalog, pg_temp
    AS '@MODULE_PATHNAME@', '@FUNCTION_NAME@';
")]
pub fn drop_guard(fcinfo: pg_sys::FunctionCallInfo) {
    guards::drop_guard(fcinfo).or_raise()
}
