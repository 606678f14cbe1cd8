//! Giving the memory of a large call back to the operating system.
//!
//! A large batch makes the backend allocate many times its size (PostgreSQL's parse
//! of the jsonb argument, the argument as text, the parsed events). All of it is
//! freed by the end of the statement, but glibc keeps freed heap memory for reuse,
//! so without this an idle backend would hold hundreds of MiB after one large call,
//! and a pool of connections that many times over.
//!
//! Most of that memory belongs to the query and is freed only after the function
//! returns, when PostgreSQL drops the portal, which it does before it runs the
//! transaction's end callbacks. So the trim runs there, once per transaction that
//! made a large call; small calls schedule nothing and pay nothing.

use pgrx::{register_xact_callback, PgXactCallbackEvent};
use std::cell::Cell;

/// Calls with more JSON than this trim when their transaction ends.
pub const LARGE_CALL_BYTES: usize = 4 * 1024 * 1024;

thread_local! {
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

/// Schedules `malloc_trim` for the end of the current transaction (commit, abort or
/// prepare) when the call's payload is large.
pub fn trim_after_large_call(payload_bytes: usize) {
    if payload_bytes <= LARGE_CALL_BYTES || SCHEDULED.get() {
        return;
    }
    SCHEDULED.set(true);
    // pgrx keeps these for the current transaction only; exactly one of them runs.
    for event in [
        PgXactCallbackEvent::Commit,
        PgXactCallbackEvent::Abort,
        PgXactCallbackEvent::Prepare,
    ] {
        register_xact_callback(event, trim);
    }
}

fn trim() {
    SCHEDULED.set(false);
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
