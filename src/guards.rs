//! Checks that refuse an operation before it does any work: a write where the
//! transaction cannot write, and a statement that would drop the extension's
//! tables while they hold data (DROP EXTENSION, DROP SCHEMA, DROP OWNED, DROP
//! TABLE), or DROP EXTENSION while they are distributed with Citus.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;
use pgrx::{is_a, PgList};
use std::ffi::CStr;

use crate::error::{Error, Result};
use crate::sql::{
    column, read, result_row, ResultRow, CITUS_INSTALLED, DISTRIBUTED_TABLES, EXTENSION_OWNER_ROLE,
    TABLES_HOLDING_ROWS,
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

/// What a statement the drop guard fires for would drop of the extension's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropTarget {
    /// DROP EXTENSION naming user_metrics: its member tables.
    Extension,
    /// DROP SCHEMA naming user_metrics: every table of the schema (with CASCADE,
    /// the extension too; without, it fails once it finds the schema is not empty).
    Schema,
    /// DROP OWNED BY the role that owns the extension's tables.
    OwnedBy(String),
    /// DROP TABLE naming tables of schema user_metrics (only those that are not
    /// members of the extension can be dropped: on a Citus coordinator, the
    /// distributed ones).
    Tables(Vec<pg_sys::Oid>),
}

impl DropTarget {
    /// The statement, as the error's DETAIL names it.
    pub fn statement(&self) -> &'static str {
        match self {
            DropTarget::Extension => "DROP EXTENSION",
            DropTarget::Schema => "DROP SCHEMA",
            DropTarget::OwnedBy(_) => "DROP OWNED",
            DropTarget::Tables(_) => "DROP TABLE",
        }
    }
}

/// The event trigger behind `user_metrics.drop_guard()`, fired at
/// ddl_command_start of DROP EXTENSION, DROP SCHEMA, DROP OWNED and DROP TABLE:
/// refuses a statement that would drop tables of schema user_metrics holding rows,
/// unless allow_drop_with_data is on, and a DROP EXTENSION user_metrics while Citus
/// distributes tables of its schema (it would leave them and their shards behind;
/// they are dropped first). Any other statement goes through untouched.
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
    let Some(target) = (unsafe { drop_target(parsetree) })? else {
        return Ok(());
    };
    if target == DropTarget::Extension {
        let distributed = distributed_tables()?;
        if !distributed.is_empty() {
            return Err(Error::DropDistributed(distributed));
        }
    }
    if allow_drop_with_data() {
        return Ok(());
    }
    let only: Option<Vec<pg_sys::Oid>> = match &target {
        DropTarget::Tables(tables) => Some(tables.clone()),
        _ => None,
    };
    let members_only = target == DropTarget::Extension;
    let tables = read(
        &TABLES_HOLDING_ROWS,
        || Ok(vec![members_only.into(), only.into()]),
        ExtensionTable::read,
    )?;
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
        Err(Error::DropWithData { target, holding })
    }
}

result_row! {
    /// A table of the extension that the statement would drop, with the query
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

/// What this statement would drop of the extension's data, if anything.
///
/// # Safety
/// `parsetree` is null or a valid parse tree node, as an event trigger receives it.
unsafe fn drop_target(parsetree: *mut pg_sys::Node) -> Result<Option<DropTarget>> {
    if is_a(parsetree, pg_sys::NodeTag::T_DropOwnedStmt) {
        // SAFETY: a DropOwnedStmt (checked above), valid per the caller's promise.
        let drop = unsafe { &*parsetree.cast::<pg_sys::DropOwnedStmt>() };
        // SAFETY: its roles, a list of RoleSpec nodes valid as the statement is.
        return unsafe { owner_role_among(drop.roles) };
    }
    if !is_a(parsetree, pg_sys::NodeTag::T_DropStmt) {
        return Ok(None);
    }
    // SAFETY: a DropStmt (checked above), valid per the caller's promise.
    let drop = unsafe { &*parsetree.cast::<pg_sys::DropStmt>() };
    // SAFETY: `objects` is the statement's list of names (or NIL), valid as the
    // statement is; for DROP EXTENSION and DROP SCHEMA each name is a String node,
    // for DROP TABLE a list of String nodes (a possibly qualified name).
    unsafe {
        let objects = PgList::<pg_sys::Node>::from_pg(drop.objects);
        match drop.removeType {
            pg_sys::ObjectType::OBJECT_EXTENSION if names_user_metrics(&objects) => {
                Ok(Some(DropTarget::Extension))
            }
            pg_sys::ObjectType::OBJECT_SCHEMA if names_user_metrics(&objects) => {
                Ok(Some(DropTarget::Schema))
            }
            pg_sys::ObjectType::OBJECT_TABLE => {
                let tables = tables_of_the_schema(&objects);
                Ok((!tables.is_empty()).then_some(DropTarget::Tables(tables)))
            }
            _ => Ok(None),
        }
    }
}

/// Whether one of these String nodes is `user_metrics`.
///
/// # Safety
/// Every element is a valid node, each String node's sval a NUL-terminated string.
unsafe fn names_user_metrics(objects: &PgList<pg_sys::Node>) -> bool {
    objects.iter_ptr().any(|name| {
        is_a(name, pg_sys::NodeTag::T_String)
            // SAFETY: a String node (checked), per the function's promise.
            && unsafe { CStr::from_ptr((*name.cast::<pg_sys::String>()).sval) } == c"user_metrics"
    })
}

/// The relations these names (each a list of String nodes) resolve to that live in
/// schema user_metrics; names that resolve to nothing are left to DROP TABLE.
///
/// # Safety
/// Every element is a valid List of String nodes, as DROP TABLE's parse tree has.
unsafe fn tables_of_the_schema(objects: &PgList<pg_sys::Node>) -> Vec<pg_sys::Oid> {
    let mut tables = Vec::new();
    for name in objects.iter_ptr() {
        // SAFETY: a name list, per the function's promise; the lookup takes no lock
        // and returns InvalidOid for a name that is not there.
        let relation = unsafe {
            let range = pg_sys::makeRangeVarFromNameList(name.cast());
            pg_sys::RangeVarGetRelidExtended(
                range,
                pg_sys::NoLock as _,
                pg_sys::RVROption::RVR_MISSING_OK,
                None,
                std::ptr::null_mut(),
            )
        };
        if relation == pg_sys::InvalidOid {
            continue;
        }
        // SAFETY: a syscache lookup of an existing relation's schema, then of its
        // name; both return palloc'd strings or null.
        let in_schema = unsafe {
            let schema = pg_sys::get_namespace_name(pg_sys::get_rel_namespace(relation));
            !schema.is_null() && CStr::from_ptr(schema) == c"user_metrics"
        };
        if in_schema {
            tables.push(relation);
        }
    }
    tables
}

/// `DropTarget::OwnedBy` when one of these roles owns the extension's tables.
///
/// # Safety
/// `roles` is NIL or a valid List of RoleSpec nodes.
unsafe fn owner_role_among(roles: *mut pg_sys::List) -> Result<Option<DropTarget>> {
    // SAFETY: per the function's promise; get_rolespec_oid with missing_ok returns
    // InvalidOid for a role that does not exist.
    let named: Vec<pg_sys::Oid> = unsafe {
        PgList::<pg_sys::RoleSpec>::from_pg(roles)
            .iter_ptr()
            .map(|role| pg_sys::get_rolespec_oid(role, true))
            .collect()
    };
    let owner = read(
        &EXTENSION_OWNER_ROLE,
        || Ok(vec![named.into()]),
        |row| column::<String>(&row, "owner_name"),
    )?;
    Ok(owner.into_iter().next().map(DropTarget::OwnedBy))
}
