//! The table locks a function that writes takes before its first statement.
//!
//! Each statement locks the tables it touches when it starts: a read takes ACCESS
//! SHARE on the table and on the indexes its plan opens, a write takes ROW
//! EXCLUSIVE. A call reads a table before it writes it (the sessions of the batch,
//! then the new ones), so between those two statements it holds only ACCESS SHARE.
//! A plain `REINDEX` of that table takes SHARE on it then (which reads allow and
//! writes do not), then ACCESS EXCLUSIVE on each index in turn, and waits for the
//! index the call has open, while the call waits for SHARE to go: a deadlock, and
//! PostgreSQL cancels one of the two (40P01).
//!
//! Taken first, ROW EXCLUSIVE on every table the function may write makes that a
//! plain wait: a `REINDEX` that comes first holds SHARE, and the call waits for it
//! before touching that table; a call that comes first makes the `REINDEX` wait
//! until its transaction ends. ROW EXCLUSIVE does not conflict with itself, so
//! calls never wait for each other here.
//!
//! The locks are taken through PostgreSQL's lock manager, not with `LOCK TABLE`:
//! on a Citus coordinator, `LOCK TABLE` of a distributed table is sent to every
//! node, which a call must not pay for.

use pgrx::pg_sys;
use std::ffi::CStr;

const SCHEMA: &CStr = c"user_metrics";

/// Every table a function of the extension writes, in the order they are locked.
const WRITTEN_TABLES: [&CStr; 7] = [
    c"users",
    c"sessions",
    c"events",
    c"rejected_events",
    c"forgotten_users",
    c"counters",
    c"ingest_counters",
];

/// Takes ROW EXCLUSIVE on every table of `WRITTEN_TABLES`, until the transaction
/// ends. Waits while another transaction holds a lock that conflicts (a `REINDEX`,
/// `CREATE INDEX`, `VACUUM FULL`), as the call's first write would.
pub fn lock_written_tables() {
    for table in WRITTEN_TABLES {
        // SAFETY: makeRangeVar keeps the two pointers, which point to static
        // NUL-terminated names that nothing writes to; RangeVarGetRelidExtended
        // only reads them. It looks the table up in the catalog and locks it (an
        // ERROR if the table is missing, raised through pgrx's guard), rechecking
        // the lookup if the catalog changed while it waited.
        unsafe {
            let relation =
                pg_sys::makeRangeVar(SCHEMA.as_ptr().cast_mut(), table.as_ptr().cast_mut(), -1);
            pg_sys::RangeVarGetRelidExtended(
                relation,
                pg_sys::RowExclusiveLock as pg_sys::LOCKMODE,
                0,
                None,
                std::ptr::null_mut(),
            );
        }
    }
}
