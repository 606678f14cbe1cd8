//! Running the statements of `queries`, each prepared once per backend and reused.
//!
//! A statement is planned on first use with the argument types of that first
//! call, kept with `SPI_keepplan`, and reused by every later call in the same
//! backend, except when its arrays are long (see `PLAN_WITH_VALUES_FROM`).
//! PostgreSQL's plan cache re-plans a kept statement by itself when the tables
//! under it change (for example after `DROP EXTENSION` and `CREATE EXTENSION`), so
//! nothing here needs invalidating.
//!
//! Every entry point is a SQL function declared with `SET search_path = pg_catalog,
//! pg_temp`, so the statements are parsed with that path: tables are named with
//! their schema, and built-in functions and operators always resolve to
//! pg_catalog whatever search_path the caller has.

use pgrx::datum::DatumWithOid;
use pgrx::pg_sys::PgOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient, SpiHeapTupleData, SpiResult};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::rc::Rc;

use super::queries::Statement;
use crate::error::Result;

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

/// The arguments of one statement, built when it runs (see `run`).
pub type Args = Vec<DatumWithOid<'static>>;

/// A statement whose array arguments have this many elements or more is planned
/// for the call, with the arguments' values, instead of reusing its prepared
/// (generic) plan. A generic plan cannot know how long the arrays are, and for a
/// statement that joins the arrays to a table and also names the users with
/// `user_key = ANY ($1)` (for Citus, to reach only their shards) it checks every
/// element of that array at each of the join's index lookups: n² comparisons,
/// a million for 1,000 sessions, where a plan made for the actual arrays does
/// 1,000 lookups. Planning the statements of a call costs about 2 ms, which small
/// calls would notice. Measured with `bench/workload.py`'s shape of 20 events per
/// session (20,000 events): at 100 events per call the prepared plans gave
/// 18,700-20,100 events/s and planning each call 12,200-16,200; at 1,000 events per
/// call, 12,900-13,400 and 25,400-29,200. The two costs meet at about 200.
const PLAN_WITH_VALUES_FROM: usize = 200;

/// The number of elements of the longest array among `args` (0 without any).
fn longest_array(args: &[DatumWithOid<'_>]) -> usize {
    args.iter()
        .filter_map(|arg| {
            let datum = arg.datum()?.sans_lifetime();
            // SAFETY: a syscache lookup of a type oid; any oid is safe to ask about.
            let is_array = unsafe { pg_sys::get_element_type(arg.oid()) } != pg_sys::InvalidOid;
            if !is_array || datum.is_null() {
                return None;
            }
            // SAFETY: the datum is a non-null value of an array type (checked above),
            // built by this extension for this statement and alive for the whole
            // call; pg_detoast_datum returns it as is or a detoasted copy in the
            // current memory context, which RawArray only reads.
            let array = unsafe {
                let detoasted = pg_sys::pg_detoast_datum(datum.cast_mut_ptr());
                pgrx::array::RawArray::from_ptr(NonNull::new(detoasted)?.cast())
            };
            Some(array.len())
        })
        .max()
        .unwrap_or(0)
}

/// Runs one statement in an SPI connection of its own: its arguments are built
/// inside it by `args`, each result row is turned into a Rust value by `read`, and
/// everything PostgreSQL allocated for it (argument arrays, result rows) is freed
/// when it returns. A 100,000-event call thus holds one statement's worth of SPI
/// memory at a time, not all of them. An ERROR inside it reaches the client and the
/// server log whole (see `elog`).
fn run<T>(
    statement: &Statement,
    writes: bool,
    args: impl FnOnce() -> Result<Args>,
    mut read: impl FnMut(SpiHeapTupleData<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let _watch = crate::elog::watch();
    Spi::connect_mut(|client| {
        let args = args()?;
        let table = if longest_array(&args) >= PLAN_WITH_VALUES_FROM {
            // A one-shot plan: SPI plans the text with these arguments' values.
            if writes {
                client.update(statement.sql, None, &args)?
            } else {
                client.select(statement.sql, None, &args)?
            }
        } else {
            let plan = prepared(client, statement, &args, writes)?;
            if writes {
                client.update(&*plan, None, &args)?
            } else {
                client.select(&*plan, None, &args)?
            }
        };
        let mut values = Vec::with_capacity(table.len());
        for row in table {
            values.push(read(row)?);
        }
        Ok(values)
    })
}

/// Runs a statement that changes data; see `run`.
pub fn write<T>(
    statement: &Statement,
    args: impl FnOnce() -> Result<Args>,
    read: impl FnMut(SpiHeapTupleData<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    run(statement, true, args, read)
}

/// Runs a read-only statement; see `run`. Before the calling transaction has
/// written anything it sees the snapshot of the calling query, afterwards a fresh
/// one, as any statement in a function would.
pub fn read<T>(
    statement: &Statement,
    args: impl FnOnce() -> Result<Args>,
    read: impl FnMut(SpiHeapTupleData<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    run(statement, false, args, read)
}

/// For statements whose result rows are not needed.
pub fn ignore(_row: SpiHeapTupleData<'_>) -> Result<()> {
    Ok(())
}

/// Runs a statement that changes data and answers with one count (a
/// `WITH ... RETURNING` counted by `SELECT count(*)`): the count.
pub fn write_count(statement: &Statement, args: Args) -> Result<i64> {
    let counts = write(
        statement,
        || Ok(args),
        |row| {
            row.get::<i64>(1)?.ok_or_else(|| {
                crate::error::Error::Internal(format!("{} returned NULL", statement.name))
            })
        },
    )?;
    counts.into_iter().next().ok_or_else(|| {
        crate::error::Error::Internal(format!("{} returned no count", statement.name))
    })
}
