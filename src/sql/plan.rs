//! The plans of the statements of `queries`: prepared once per backend, kept with
//! `SPI_keepplan`, and reused by every later call in the same backend.
//!
//! How a kept plan is planned (`Planning`) is fixed when it is prepared, with
//! PostgreSQL's cursor options, because the plan cache's own choice is wrong for
//! the statements over arrays: it plans each execution with its values ("custom
//! plans") until their average cost beats the generic plan's estimate, and for an
//! array of unknown length that estimate never does. Every call then paid
//! `pg_plan_query` for each of its statements (a quarter of a one-event call's CPU).
//!
//! PostgreSQL's plan cache re-plans a kept statement by itself when the tables under
//! it change (for example after `DROP EXTENSION` and `CREATE EXTENSION`), so nothing
//! here needs invalidating.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::Spi;
use pgrx::PgTupleDesc;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CString;
use std::ptr::NonNull;
use std::rc::Rc;

use super::queries::Statement;
use super::rows::StatementRow;
use crate::error::{Error, Result};

/// How a statement's kept plan is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Planning {
    /// Once, without the arguments' values, and reused as it is.
    Generic,
    /// For every execution, with its arguments' values (the parse and analysis are
    /// kept).
    WithValues,
    /// As PostgreSQL's plan cache decides (`plan_cache_mode`).
    Default,
}

impl Planning {
    fn cursor_options(self) -> i32 {
        let options = match self {
            Planning::Generic => pg_sys::CURSOR_OPT_GENERIC_PLAN,
            Planning::WithValues => pg_sys::CURSOR_OPT_CUSTOM_PLAN,
            Planning::Default => 0,
        };
        // The options are small bit flags.
        options as i32
    }
}

/// A plan kept for the life of the backend: it is never freed (a backend keeps
/// one or two per statement), so nothing runs SPI at exit.
pub struct KeptPlan {
    plan: NonNull<pg_sys::_SPI_plan>,
}

thread_local! {
    // A backend runs one query at a time on one thread, so a thread-local cache is
    // a per-backend cache. Rc lets a plan run without holding the RefCell.
    static KEPT: RefCell<HashMap<(&'static str, Planning), Rc<KeptPlan>>> =
        RefCell::new(HashMap::new());
}

/// The kept plan of `statement` for these arguments' types, prepared on first use.
/// Must be called inside an SPI connection.
pub fn kept(
    statement: &Statement,
    args: &[DatumWithOid<'_>],
    planning: Planning,
) -> Result<Rc<KeptPlan>> {
    let key = (statement.name, planning);
    if let Some(plan) = KEPT.with(|kept| kept.borrow().get(&key).cloned()) {
        return Ok(plan);
    }
    let plan = Rc::new(KeptPlan::prepare(statement, args, planning)?);
    KEPT.with(|kept| kept.borrow_mut().insert(key, Rc::clone(&plan)));
    Ok(plan)
}

impl KeptPlan {
    fn prepare(
        statement: &Statement,
        args: &[DatumWithOid<'_>],
        planning: Planning,
    ) -> Result<KeptPlan> {
        let sql = CString::new(statement.sql)
            .map_err(|_| Error::Internal(format!("{} holds a NUL byte", statement.name)))?;
        let mut types: Vec<pg_sys::Oid> = args.iter().map(|arg| arg.oid()).collect();
        // SAFETY: called inside an SPI connection (the caller's promise), with a
        // NUL-terminated statement and one type per argument; SPI_prepare_cursor
        // copies both. An error in the statement raises an ERROR, which pgrx turns
        // into a panic that ends the call.
        let plan = unsafe {
            pg_sys::SPI_prepare_cursor(
                sql.as_ptr(),
                args.len() as i32,
                types.as_mut_ptr(),
                planning.cursor_options(),
            )
        };
        let plan = NonNull::new(plan).ok_or_else(|| {
            // SAFETY: a plain global that SPI sets when it fails.
            Error::Internal(format!(
                "{} could not be prepared (SPI result {})",
                statement.name,
                unsafe { pg_sys::SPI_result }
            ))
        })?;
        // SAFETY: a plan just prepared in this connection, not kept yet; it moves
        // to a memory context of its own that outlives the connection.
        let kept = unsafe { pg_sys::SPI_keepplan(plan.as_ptr()) };
        if kept != 0 {
            return Err(Error::Internal(format!(
                "{} could not be kept (SPI result {kept})",
                statement.name
            )));
        }
        Ok(KeptPlan { plan })
    }

    /// Runs the plan with `args` (their types those it was prepared with), and turns
    /// each result row into a value with `read`. Must be called inside an SPI
    /// connection. A statement that only reads runs read-only while the transaction
    /// has written nothing (it sees the calling query's snapshot, as any read in a
    /// function would); once it has written, every statement takes a fresh snapshot,
    /// so that it sees what the earlier ones wrote.
    pub fn execute<T>(
        &self,
        args: &[DatumWithOid<'_>],
        writes: bool,
        mut read: impl FnMut(StatementRow<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        // SAFETY: plain calls about the current transaction; assigning its id (when
        // writing) raises an ERROR in a read-only transaction, which the guards
        // refuse before any work.
        let read_only = unsafe {
            if writes {
                pg_sys::GetCurrentTransactionId();
            }
            !writes && pg_sys::GetCurrentTransactionIdIfAny() == pg_sys::InvalidTransactionId
        };
        let mut values: Vec<pg_sys::Datum> = Vec::with_capacity(args.len());
        let mut nulls: Vec<std::ffi::c_char> = Vec::with_capacity(args.len());
        for arg in args {
            match arg.datum() {
                Some(datum) => {
                    values.push(datum.sans_lifetime());
                    nulls.push(b' ' as std::ffi::c_char);
                }
                None => {
                    values.push(pg_sys::Datum::from(0usize));
                    nulls.push(b'n' as std::ffi::c_char);
                }
            }
        }
        // SAFETY: a kept plan, run inside an SPI connection (the caller's promise)
        // with one value and one null flag per argument, of the types it was
        // prepared with (the cache is keyed by statement, whose arguments always
        // have the same types). Its result rows are read below, before the
        // connection ends.
        let status = unsafe {
            pg_sys::SPI_tuptable = std::ptr::null_mut();
            pg_sys::SPI_execute_plan(
                self.plan.as_ptr(),
                values.as_mut_ptr(),
                nulls.as_ptr(),
                read_only,
                0,
            )
        };
        Spi::check_status(status)?;
        // SAFETY: SPI's result of the statement just run: a table of `numvals`
        // rows with their descriptor, alive until the connection ends, or none.
        unsafe {
            let Some(table) = pg_sys::SPI_tuptable.as_ref() else {
                return Ok(Vec::new());
            };
            let count = usize::try_from(table.numvals).unwrap_or(0);
            let columns = PgTupleDesc::from_pg_unchecked(table.tupdesc);
            let mut rows = Vec::with_capacity(count);
            for i in 0..count {
                rows.push(read(StatementRow::new(&columns, *table.vals.add(i)))?);
            }
            Ok(rows)
        }
    }
}
