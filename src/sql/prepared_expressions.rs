//! The CHECK constraints and column defaults of the tables written without a
//! statement (`direct_write`, `row_update`), prepared once per backend rather
//! than at every call. The executor prepares them from their stored text for
//! each statement (`ExecConstraints`, `build_column_default`): for a call of one
//! event that reading and preparing cost more than the checks themselves (about
//! a tenth of all its work, README, Performance, change 13).
//!
//! A table's prepared expressions are thrown away when PostgreSQL invalidates
//! the table's cached definition (any ALTER TABLE, a new constraint or default,
//! a dropped identity) or changes any function (a CHECK may call one, inlined
//! when it is prepared), as a statement's cached plan would be. Expressions
//! thrown away during a transaction are freed at its end, not at once: a call
//! may be evaluating them.

use pgrx::pg_sys;
use std::cell::{Cell, RefCell};

/// How many tables the cache holds; others are prepared by the executor as usual.
const TABLES: usize = 8;

/// One table's prepared expressions, in a memory context of their own.
#[derive(Clone, Copy)]
struct Prepared {
    relid: pg_sys::Oid,
    context: pg_sys::MemoryContext,
    /// One per CHECK constraint, in the order of the table's descriptor (NULL for
    /// a constraint not enforced): what `ResultRelInfo.ri_ConstraintExprs` holds.
    checks: *mut *mut pg_sys::ExprState,
    /// One per column (NULL for none): its default.
    defaults: *mut *mut pg_sys::ExprState,
}

thread_local! {
    static CACHE: RefCell<Vec<Prepared>> = const { RefCell::new(Vec::new()) };
    /// The tables of CACHE, and which of them were invalidated since prepared. Cells,
    /// for the invalidation callbacks, which may run while CACHE is borrowed.
    static WATCHED: Cell<[pg_sys::Oid; TABLES]> = const { Cell::new([pg_sys::InvalidOid; TABLES]) };
    static STALE: Cell<u8> = const { Cell::new(0) };
    static REGISTERED: Cell<bool> = const { Cell::new(false) };
}

/// The prepared CHECK constraints and defaults of `rel`, or None for a table the
/// cache does not hold (the executor then prepares them itself). The arrays live
/// at least until the end of the current transaction.
pub(super) unsafe fn prepared(
    rel: pg_sys::Relation,
) -> Option<(*mut *mut pg_sys::ExprState, *mut *mut pg_sys::ExprState)> {
    if has_generated_columns(rel) {
        return None;
    }
    register_callbacks();
    let relid = (*rel).rd_id;
    let watched = WATCHED.get();
    let position = watched.iter().position(|&r| r == relid);
    let stale = position.is_some_and(|i| STALE.get() & (1 << i) != 0);
    if let (Some(i), false) = (position, stale) {
        let found = CACHE.with_borrow(|cache| cache.get(i).copied());
        if let Some(p) = found.filter(|p| p.relid == relid) {
            return Some((p.checks, p.defaults));
        }
    }
    // Its own slot, else a free one, else one of a table invalidated since (a
    // dropped table's, say).
    let slot = match position {
        Some(i) => i,
        None => watched
            .iter()
            .position(|&r| r == pg_sys::InvalidOid)
            .or_else(|| (0..TABLES).find(|i| STALE.get() & (1 << i) != 0))?,
    };
    let fresh = prepare(rel);
    CACHE.with_borrow_mut(|cache| {
        if let Some(old) = cache.get(slot).copied() {
            retire(old.context);
            cache[slot] = fresh;
        } else {
            cache.push(fresh);
        }
    });
    let mut watched = WATCHED.get();
    watched[slot] = relid;
    WATCHED.set(watched);
    STALE.set(STALE.get() & !(1 << slot));
    Some((fresh.checks, fresh.defaults))
}

/// Gives `rri` its table's prepared CHECK constraints, when the cache holds them;
/// otherwise the executor prepares them at the first row, as usual.
pub(super) unsafe fn use_prepared_checks(rri: *mut pg_sys::ResultRelInfo) {
    if let Some((checks, _)) = prepared((*rri).ri_RelationDesc) {
        if !checks.is_null() {
            set_checks(rri, checks);
        }
    }
}

#[cfg(feature = "pg15")]
unsafe fn set_checks(rri: *mut pg_sys::ResultRelInfo, checks: *mut *mut pg_sys::ExprState) {
    (*rri).ri_ConstraintExprs = checks;
}

#[cfg(feature = "pg18")]
unsafe fn set_checks(rri: *mut pg_sys::ResultRelInfo, checks: *mut *mut pg_sys::ExprState) {
    (*rri).ri_CheckConstraintExprs = checks;
}

unsafe fn has_generated_columns(rel: pg_sys::Relation) -> bool {
    let constr = (*(*rel).rd_att).constr;
    !constr.is_null() && generated(constr)
}

#[cfg(feature = "pg15")]
unsafe fn generated(constr: *mut pg_sys::TupleConstr) -> bool {
    (*constr).has_generated_stored
}

#[cfg(feature = "pg18")]
unsafe fn generated(constr: *mut pg_sys::TupleConstr) -> bool {
    (*constr).has_generated_stored || (*constr).has_generated_virtual
}

#[cfg(feature = "pg15")]
unsafe fn enforced(_check: &pg_sys::ConstrCheck) -> bool {
    true
}

#[cfg(feature = "pg18")]
unsafe fn enforced(check: &pg_sys::ConstrCheck) -> bool {
    check.ccenforced
}

/// Reads and prepares `rel`'s CHECK constraints and defaults, as the executor
/// does (`ExecRelCheck`, `build_column_default`), into a new memory context
/// under CacheMemoryContext.
unsafe fn prepare(rel: pg_sys::Relation) -> Prepared {
    // Made under the caller's context and moved once complete: an error on the
    // way frees it with that context.
    let context = pg_sys::AllocSetContextCreateInternal(
        pg_sys::CurrentMemoryContext,
        c"user_metrics prepared expressions".as_ptr(),
        0,
        pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
        pg_sys::ALLOCSET_SMALL_MAXSIZE as usize,
    );
    let caller = pg_sys::MemoryContextSwitchTo(context);
    let desc = (*rel).rd_att;
    let constr = (*desc).constr;
    let mut checks: *mut *mut pg_sys::ExprState = std::ptr::null_mut();
    if !constr.is_null() && (*constr).num_check > 0 {
        let count = (*constr).num_check as usize;
        checks = pg_sys::palloc0(count * std::mem::size_of::<*mut pg_sys::ExprState>()).cast();
        for i in 0..count {
            let check = &*(*constr).check.add(i);
            if enforced(check) {
                let expression = pg_sys::stringToNode(check.ccbin).cast::<pg_sys::Expr>();
                *checks.add(i) = pg_sys::ExecInitExpr(
                    pg_sys::expression_planner(expression),
                    std::ptr::null_mut(),
                );
            }
        }
    }
    let natts = (*desc).natts as usize;
    let defaults: *mut *mut pg_sys::ExprState =
        pg_sys::palloc0(natts.max(1) * std::mem::size_of::<*mut pg_sys::ExprState>()).cast();
    let attributes = pgrx::PgTupleDesc::from_pg_unchecked(desc);
    for (i, attribute) in attributes.iter().enumerate() {
        if attribute.is_dropped() {
            continue;
        }
        let default = pg_sys::build_column_default(rel, i as i32 + 1);
        if !default.is_null() {
            *defaults.add(i) = pg_sys::ExecInitExpr(
                pg_sys::expression_planner(default.cast()),
                std::ptr::null_mut(),
            );
        }
    }
    pg_sys::MemoryContextSwitchTo(caller);
    pg_sys::MemoryContextSetParent(context, pg_sys::CacheMemoryContext);
    Prepared {
        relid: (*rel).rd_id,
        context,
        checks,
        defaults,
    }
}

/// Frees `context` at the end of the current transaction: a call in it may still
/// be evaluating its expressions.
unsafe fn retire(context: pg_sys::MemoryContext) {
    pg_sys::MemoryContextSetParent(context, pg_sys::TopTransactionContext);
}

unsafe fn register_callbacks() {
    if REGISTERED.get() {
        return;
    }
    pg_sys::CacheRegisterRelcacheCallback(Some(table_changed), pg_sys::Datum::from(0));
    pg_sys::CacheRegisterSyscacheCallback(
        pg_sys::SysCacheIdentifier::PROCOID as i32,
        Some(function_changed),
        pg_sys::Datum::from(0),
    );
    REGISTERED.set(true);
}

/// A table's cached definition was invalidated (InvalidOid: every table's).
unsafe extern "C-unwind" fn table_changed(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    if relid == pg_sys::InvalidOid {
        STALE.set(u8::MAX);
        return;
    }
    if let Some(i) = WATCHED.get().iter().position(|&r| r == relid) {
        STALE.set(STALE.get() | (1 << i));
    }
}

/// A function was created, changed or dropped.
unsafe extern "C-unwind" fn function_changed(
    _arg: pg_sys::Datum,
    _cache: core::ffi::c_int,
    _hash: u32,
) {
    STALE.set(u8::MAX);
}
