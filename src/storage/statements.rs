//! The SQL the extension runs, prepared once per backend and reused.
//!
//! Each statement is a file under `sql/queries/`. It is planned on first use with
//! the argument types of that first call, kept with `SPI_keepplan`, and reused by
//! every later call in the same backend. PostgreSQL's plan cache re-plans a kept
//! statement by itself when the tables under it change (for example after
//! `DROP EXTENSION` and `CREATE EXTENSION`), so nothing here needs invalidating.
//!
//! Every entry point is a SQL function declared with `SET search_path = pg_catalog,
//! pg_temp`, so the statements are parsed with that path: tables are named with
//! their schema, and built-in functions and operators always resolve to
//! pg_catalog whatever search_path the caller has.

use pgrx::datum::DatumWithOid;
use pgrx::pg_sys::PgOid;
use pgrx::spi::{OwnedPreparedStatement, SpiClient, SpiResult, SpiTupleTable};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// One SQL statement of the extension.
pub struct Statement {
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! statement {
    ($const_name:ident, $file:literal) => {
        pub const $const_name: Statement = Statement {
            name: $file,
            sql: include_str!(concat!("../../sql/queries/", $file, ".sql")),
        };
    };
}

// Ingestion, in the order one call runs them.
statement!(INSERT_USERS, "insert_users");
statement!(USER_IDS, "user_ids");
statement!(LOCK_SESSIONS, "lock_sessions");
statement!(SESSION_OWNERS, "session_owners");
statement!(INSERT_EVENTS, "insert_events");
statement!(ADD_TO_SESSIONS, "add_to_sessions");
statement!(DELETE_EMPTY_SESSIONS, "delete_empty_sessions");
statement!(DELETE_UNUSED_USERS, "delete_unused_users");
statement!(RENAME_USERS, "rename_users");
statement!(QUARANTINE, "quarantine");

// Reports.
statement!(USER_TOTALS_ALL, "user_totals_all");
statement!(USER_TOTALS_ONE, "user_totals_one");
statement!(SESSION_DETAILS, "session_details");
statement!(WEEKLY_REPORT, "weekly_report");
statement!(HEALTH, "health");
statement!(LIST_REJECTED_EVENTS, "list_rejected_events");

thread_local! {
    // A backend runs one query at a time on one thread, so a thread-local cache is
    // a per-backend cache. Rc lets a statement run without holding the RefCell.
    static PREPARED: RefCell<HashMap<&'static str, Rc<OwnedPreparedStatement>>> =
        RefCell::new(HashMap::new());
}

fn prepared(
    client: &SpiClient<'_>,
    statement: &Statement,
    args: &[DatumWithOid<'_>],
    writes: bool,
) -> SpiResult<Rc<OwnedPreparedStatement>> {
    if let Some(plan) = PREPARED.with(|cache| cache.borrow().get(statement.name).cloned()) {
        return Ok(plan);
    }
    let types: Vec<PgOid> = args.iter().map(|arg| PgOid::from(arg.oid())).collect();
    let plan = if writes {
        client.prepare_mut(statement.sql, &types)?
    } else {
        client.prepare(statement.sql, &types)?
    };
    let plan = Rc::new(plan.keep());
    PREPARED.with(|cache| cache.borrow_mut().insert(statement.name, Rc::clone(&plan)));
    Ok(plan)
}

/// Runs a statement that changes data.
pub fn execute<'conn>(
    client: &mut SpiClient<'conn>,
    statement: &Statement,
    args: &[DatumWithOid<'_>],
) -> SpiResult<SpiTupleTable<'conn>> {
    let plan = prepared(client, statement, args, true)?;
    client.update(&*plan, None, args)
}

/// Runs a read-only statement; it sees the snapshot of the calling query.
pub fn query<'conn>(
    client: &SpiClient<'conn>,
    statement: &Statement,
    args: &[DatumWithOid<'_>],
) -> SpiResult<SpiTupleTable<'conn>> {
    let plan = prepared(client, statement, args, false)?;
    client.select(&*plan, None, args)
}
