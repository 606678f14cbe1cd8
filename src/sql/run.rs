//! Running the statements of `queries`, each with a plan kept per backend (see
//! `plan`): planned once and reused (generic) when its arrays are short, planned
//! for the call's values when they are long (see `PLAN_WITH_VALUES_FROM`).
//!
//! Every entry point is a SQL function declared with `SET search_path = pg_catalog,
//! pg_temp`, so the statements are parsed with that path: tables are named with
//! their schema, and built-in functions and operators always resolve to
//! pg_catalog whatever search_path the caller has.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use std::ptr::NonNull;

use super::plan::{self, Planning};
use super::queries::Statement;
use super::rows::StatementRow;
use crate::error::Result;

/// The arguments of one statement, built when it runs (see `run`).
pub type Args = Vec<DatumWithOid<'static>>;

/// A statement whose array arguments have this many elements or more is planned
/// for the call, with the arguments' values, instead of running its generic plan.
/// A generic plan cannot know how long the arrays are, and for a statement that
/// joins the arrays to a table and also names the users with `user_key = ANY ($1)`
/// (for Citus, to reach only their shards) it checks every element of that array
/// at each of the join's index lookups: n² comparisons, a million for 1,000
/// sessions, where a plan made for the actual arrays does 1,000 lookups. Planning
/// costs a call about 1 ms, which small calls would notice. README, Performance,
/// gives the measurements behind the figure (`bench/plan_crossover.sh` builds the
/// extension with other values, through `USER_METRICS_PLAN_WITH_VALUES_FROM`), and
/// why ingestion's statements, whose `= ANY` is guarded, do not skip it either: a
/// generic plan made while the tables were small was slow as they grew.
const PLAN_WITH_VALUES_FROM: usize = match option_env!("USER_METRICS_PLAN_WITH_VALUES_FROM") {
    Some(digits) => parse_count(digits),
    None => 200,
};

/// A count written in decimal digits, at compile time.
const fn parse_count(digits: &str) -> usize {
    let bytes = digits.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "not a count");
        value = value * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    value
}

/// How a statement with these arguments is planned: statements over arrays by
/// the length of the longest, the others as PostgreSQL's plan cache decides. On a
/// server that runs Citus, statements over arrays are always planned with their
/// values: Citus cannot plan a statement over distributed tables without its
/// parameters' values ("could not create distributed plan"), and it needs them
/// to send it only to the shards of the users it names.
fn planning(args: &[DatumWithOid<'_>]) -> Planning {
    match longest_array(args) {
        None => Planning::Default,
        Some(n) if n >= PLAN_WITH_VALUES_FROM || citus_loaded() => Planning::WithValues,
        Some(_) => Planning::Generic,
    }
}

thread_local! {
    // Per type oid, whether it is an array type: asked for every argument of every
    // statement, and a type's being an array never changes.
    static ARRAY_TYPES: std::cell::RefCell<std::collections::HashMap<pg_sys::Oid, bool>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
    static CITUS_LOADED: std::cell::OnceCell<bool> = const { std::cell::OnceCell::new() };
}

fn is_array_type(oid: pg_sys::Oid) -> bool {
    ARRAY_TYPES.with(|types| {
        *types.borrow_mut().entry(oid).or_insert_with(|| {
            // SAFETY: a syscache lookup of a type oid; any oid is safe to ask about.
            let element = unsafe { pg_sys::get_element_type(oid) };
            element != pg_sys::InvalidOid
        })
    })
}

/// Whether the server preloads Citus (`shared_preload_libraries`, which Citus
/// needs and which cannot change while the server runs). Read once per backend.
/// The ingestion statements take it as an argument: on Citus they name the
/// users they concern, for the shards, and elsewhere they do not.
pub fn citus_loaded() -> bool {
    CITUS_LOADED.with(|loaded| {
        *loaded.get_or_init(|| {
            // SAFETY: reads a setting's current value, a string owned by
            // PostgreSQL's settings (or NULL for an unknown name), copied at once.
            let value = unsafe {
                let value =
                    pg_sys::GetConfigOption(c"shared_preload_libraries".as_ptr(), true, false);
                if value.is_null() {
                    return false;
                }
                std::ffi::CStr::from_ptr(value)
                    .to_string_lossy()
                    .into_owned()
            };
            value
                .split(',')
                .any(|library| library.trim().trim_matches('"') == "citus")
        })
    })
}

/// The number of elements of the longest array among `args` (None without any
/// array argument; a NULL array counts as empty).
fn longest_array(args: &[DatumWithOid<'_>]) -> Option<usize> {
    args.iter()
        .filter_map(|arg| {
            if !is_array_type(arg.oid()) {
                return None;
            }
            let Some(datum) = arg.datum().map(|d| d.sans_lifetime()) else {
                return Some(0);
            };
            if datum.is_null() {
                return Some(0);
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
    generic: bool,
    args: impl FnOnce() -> Result<Args>,
    read: impl FnMut(StatementRow<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let _watch = crate::elog::watch();
    Spi::connect_mut(|_client| {
        let args = args()?;
        let planning = if generic {
            Planning::Generic
        } else {
            planning(&args)
        };
        let plan = plan::kept(statement, &args, planning)?;
        plan.execute(&args, writes, read)
    })
}

/// Runs a statement that changes data; see `run`.
pub fn write<T>(
    statement: &Statement,
    args: impl FnOnce() -> Result<Args>,
    read: impl FnMut(StatementRow<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    run(statement, true, false, args, read)
}

/// Runs a statement that changes data, on a plan made once per backend without
/// its arguments' values, whatever PostgreSQL's plan cache would choose: for a
/// statement of scalar arguments whose plan does not depend on them (every row it
/// touches is found by its key); see `run`.
pub fn write_planned_once<T>(
    statement: &Statement,
    args: impl FnOnce() -> Result<Args>,
    read: impl FnMut(StatementRow<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    run(statement, true, true, args, read)
}

/// Runs a read-only statement; see `run`. Before the calling transaction has
/// written anything it sees the snapshot of the calling query, afterwards a fresh
/// one, as any statement in a function would.
pub fn read<T>(
    statement: &Statement,
    args: impl FnOnce() -> Result<Args>,
    read: impl FnMut(StatementRow<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    run(statement, false, false, args, read)
}

/// For statements whose result rows are not needed.
pub fn ignore(_row: StatementRow<'_>) -> Result<()> {
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
