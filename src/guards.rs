//! Checks that refuse an operation before it does any work: a write where the
//! transaction cannot write, and DROP EXTENSION while the tables hold data or are
//! distributed with Citus.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;
use pgrx::{is_a, PgList};
use std::ffi::CStr;

use crate::error::{Error, Result};
use crate::sql::{
    column, read, result_row, ResultRow, CITUS_INSTALLED, DISTRIBUTED_TABLES, TABLES_HOLDING_ROWS,
};

/// Refuses a call of the function `function` (which writes) on a hot standby
/// or in a read-only transaction, with SQLSTATE 25006 as any write gets there.
/// Without it the call would get as far as its first write and fail there with
/// an internal error, or succeed when the batch happens to need no write.
pub fn writable(function: &'static str) -> Result<()> {
    // SAFETY: reads of this backend's state, valid inside any transaction.
    if unsafe { pg_sys::RecoveryInProgress() } {
        return Err(Error::InRecovery(function));
    }
    // On a standby every transaction is read-only too; above, it gets the clearer message.
    // SAFETY: a plain global of this backend's transaction state.
    if unsafe { pg_sys::XactReadOnly } {
        return Err(Error::ReadOnlyTransaction(function));
    }
    Ok(())
}

/// Refuses a database whose encoding is not UTF8: events are JSON, which is
/// Unicode, and their text is read as UTF-8 (CREATE EXTENSION refuses such a
/// database already; this covers one whose encoding the extension never saw).
pub fn utf8_database() -> Result<()> {
    // SAFETY: a plain read of the database's encoding, set when the backend starts.
    if unsafe { pg_sys::GetDatabaseEncoding() } != pg_sys::pg_enc::PG_UTF8 as i32 {
        return Err(Error::NotUtf8);
    }
    Ok(())
}

/// `user_metrics.allow_drop_with_data`: lets DROP EXTENSION user_metrics delete
/// the rows its tables hold.
const ALLOW_DROP_WITH_DATA_NAME: &CStr = c"user_metrics.allow_drop_with_data";
static ALLOW_DROP_WITH_DATA: GucSetting<bool> = GucSetting::<bool>::new(false);

/// Registers the extension's settings; called once, when the library loads. A
/// value SET before that (the library loads at the first call of one of its
/// functions) is taken over.
///
/// Each version has a library of its own, and one backend may load two: a
/// connection that called the old version's functions, then the new version's
/// after ALTER EXTENSION UPDATE. A setting the other library has defined already
/// is left to it (defining it twice is an error, "attempt to redefine
/// parameter"), and its value is read from PostgreSQL (`allow_drop_with_data`),
/// not from this library's own copy.
pub fn register_settings() {
    if defined_by_a_loaded_library(ALLOW_DROP_WITH_DATA_NAME) {
        return;
    }
    GucRegistry::define_bool_guc(
        ALLOW_DROP_WITH_DATA_NAME,
        c"Lets DROP EXTENSION user_metrics delete the rows its tables hold.",
        c"Off by default: DROP EXTENSION user_metrics is refused while any of its tables holds a row.",
        &ALLOW_DROP_WITH_DATA,
        GucContext::Userset,
        GucFlags::default(),
    );
}

/// Whether the setting `name` exists and is not a placeholder (a value SET
/// before any library defined it): some library loaded in this backend defined it.
fn defined_by_a_loaded_library(name: &CStr) -> bool {
    // SAFETY: lookups in this backend's table of settings, by a NUL-terminated name.
    unsafe {
        let exists = !pg_sys::GetConfigOption(name.as_ptr(), true, false).is_null();
        let flags = pg_sys::GetConfigOptionFlags(name.as_ptr(), true);
        exists && (flags & pg_sys::GUC_CUSTOM_PLACEHOLDER as i32) == 0
    }
}

/// The value of `user_metrics.allow_drop_with_data`, whichever version's library
/// defined it.
fn allow_drop_with_data() -> bool {
    // SAFETY: as above; the returned string is valid until the setting changes,
    // and is read at once.
    let value = unsafe { pg_sys::GetConfigOption(ALLOW_DROP_WITH_DATA_NAME.as_ptr(), true, false) };
    if value.is_null() {
        return ALLOW_DROP_WITH_DATA.get();
    }
    // SAFETY: a NUL-terminated string owned by the GUC machinery.
    unsafe { CStr::from_ptr(value) }.to_bytes() == b"on"
}

/// The event trigger behind `user_metrics.drop_guard()`, fired at
/// ddl_command_start of DROP EXTENSION: refuses a DROP EXTENSION that names
/// user_metrics while Citus distributes tables of its schema (DROP EXTENSION
/// would leave them and their shards behind; they are dropped first), and while
/// the tables it would drop hold rows, unless allow_drop_with_data is on. Any
/// other statement goes through untouched.
pub fn drop_guard(fcinfo: pg_sys::FunctionCallInfo) -> Result<()> {
    // SAFETY: fcinfo comes from PostgreSQL's function manager; its context, when
    // it is an EventTriggerData node, is the event trigger's data for this call.
    let parsetree = unsafe {
        let context = fcinfo.as_ref().map_or(std::ptr::null_mut(), |f| f.context);
        if !is_a(context, pg_sys::NodeTag::T_EventTriggerData) {
            return Err(Error::NotAnEventTrigger("drop_guard"));
        }
        (*context.cast::<pg_sys::EventTriggerData>()).parsetree
    };
    // SAFETY: the parse tree of the statement being run, valid during the trigger.
    if !unsafe { drops_user_metrics(parsetree) } {
        return Ok(());
    }
    let distributed = distributed_tables()?;
    if !distributed.is_empty() {
        return Err(Error::DropDistributed(distributed));
    }
    if allow_drop_with_data() {
        return Ok(());
    }
    let tables = read(&TABLES_HOLDING_ROWS, || Ok(vec![]), ExtensionTable::read)?;
    // Each probe is the query tables_holding_rows.sql wrote for its table.
    let mut holding = Vec::new();
    for table in tables {
        if Spi::get_one::<bool>(&table.probe)?.unwrap_or(false) {
            holding.push(table.table_name);
        }
    }
    if holding.is_empty() {
        Ok(())
    } else {
        Err(Error::DropWithData(holding))
    }
}

result_row! {
    /// A table of the extension that DROP EXTENSION would drop, with the query
    /// that says whether it holds a row.
    pub struct ExtensionTable {
        table_name: String,
        probe: String,
    }
}

/// The tables of schema user_metrics that Citus distributes; none without Citus,
/// whose catalog is only read where it is installed.
fn distributed_tables() -> Result<Vec<String>> {
    let citus = read(
        &CITUS_INSTALLED,
        || Ok(vec![]),
        |row| column::<bool>(&row, "exists"),
    )?;
    if citus != [true] {
        return Ok(vec![]);
    }
    read(
        &DISTRIBUTED_TABLES,
        || Ok(vec![]),
        |row| column::<String>(&row, "table_name"),
    )
}

/// Is this statement a DROP EXTENSION that names user_metrics (alone or with others)?
///
/// # Safety
/// `parsetree` is null or a valid parse tree node, as an event trigger receives it.
unsafe fn drops_user_metrics(parsetree: *mut pg_sys::Node) -> bool {
    if !is_a(parsetree, pg_sys::NodeTag::T_DropStmt) {
        return false;
    }
    // SAFETY: a DropStmt (checked above), valid per the caller's promise.
    let drop = unsafe { &*parsetree.cast::<pg_sys::DropStmt>() };
    if drop.removeType != pg_sys::ObjectType::OBJECT_EXTENSION {
        return false;
    }
    // The names of DROP EXTENSION are String nodes.
    // SAFETY: `objects` is the statement's list of names (or NIL), and each String
    // node's sval a NUL-terminated string, all valid as the statement is.
    unsafe {
        PgList::<pg_sys::Node>::from_pg(drop.objects)
            .iter_ptr()
            .any(|name| {
                is_a(name, pg_sys::NodeTag::T_String)
                    && CStr::from_ptr((*name.cast::<pg_sys::String>()).sval) == c"user_metrics"
            })
    }
}
