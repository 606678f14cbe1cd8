//! What the extension hands to PostgreSQL's error reporting, beyond what pgrx can say.
//!
//! pgrx turns an ERROR raised inside a call (a deadlock inside SPI, a lock timeout, a
//! cancel) into a Rust panic at the innermost FFI call: it copies the SQLSTATE,
//! message, detail and hint, flushes PostgreSQL's error state, and raises a new ERROR
//! from those fields once the panic reaches the function's boundary. Everything else
//! is gone by then: the log-only detail (a deadlock's per-process lines), the context,
//! the schema, table and constraint names, the internal query. Nor can a pgrx report
//! ask PostgreSQL to leave the statement out of the server log.
//!
//! Both are done here with one error context callback, registered while the
//! extension works (`watch`). PostgreSQL calls it from `errfinish`, with the error
//! complete, whenever something is reported:
//! - for an ERROR raised inside a call, it keeps a copy of every field;
//! - for the ERROR that pgrx then raises at the function's boundary (the same error,
//!   the extension's own, or a Rust panic), it adds what pgrx left out and hides the
//!   statement from the server log; to a duplicate key in one of the extension's
//!   tables it adds a HINT that says what to do (`duplicate_key`).
//!
//! So every ERROR still travels the way pgrx raises it, unwinding Rust normally; the
//! callback only completes it. `log` writes the extension's own LOG lines.

pub(crate) mod duplicate_key;

use pgrx::pg_sys;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};

// Left out of pgrx's bindings on purpose (pgrx reports through its own types); the
// same declarations as PostgreSQL's elog.h.
extern "C-unwind" {
    fn errfinish(filename: *const c_char, lineno: c_int, funcname: *const c_char);
    fn errcontext_msg(fmt: *const c_char, ...) -> c_int;
    fn errhint(fmt: *const c_char, ...) -> c_int;
}

const PERCENT_S: &CStr = c"%s";

/// An ERROR raised inside a call, as PostgreSQL made it, with the fields that pgrx's
/// report of it does not carry.
struct Captured {
    sqlerrcode: c_int,
    message: Option<CString>,
    detail_log: Option<CString>,
    context: Option<CString>,
    hide_ctx: bool,
    schema_name: Option<CString>,
    table_name: Option<CString>,
    column_name: Option<CString>,
    datatype_name: Option<CString>,
    constraint_name: Option<CString>,
    cursorpos: c_int,
    internalpos: c_int,
    internalquery: Option<CString>,
}

#[derive(Default)]
struct State {
    /// The last ERROR raised inside the call, until pgrx reports it.
    captured: Option<Captured>,
    /// An ERROR is leaving the call: the next ERROR reported is pgrx's report of it.
    armed: bool,
    /// For the log instead of the DETAIL, with an error of the extension's own.
    detail_log: Option<CString>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

// PostgreSQL keeps a pointer to this while it is on `error_context_stack`, so it
// lives in a static; a backend runs one call at a time on one thread.
static mut CALLBACK: pg_sys::ErrorContextCallback = pg_sys::ErrorContextCallback {
    previous: std::ptr::null_mut(),
    callback: Some(complete_error),
    arg: std::ptr::null_mut(),
};

fn callback() -> *mut pg_sys::ErrorContextCallback {
    std::ptr::addr_of_mut!(CALLBACK)
}

/// Puts the callback on `error_context_stack` unless it is there already (a call
/// inside a call). Returns whether it was put there now.
fn register() -> bool {
    // SAFETY: error_context_stack is this backend's list of callbacks, read and
    // changed by one thread only; every entry on it is valid while it is listed,
    // and CALLBACK is a static, so it stays valid once listed.
    unsafe {
        let mut entry = pg_sys::error_context_stack;
        while !entry.is_null() {
            if entry == callback() {
                return false;
            }
            entry = (*entry).previous;
        }
        (*callback()).previous = pg_sys::error_context_stack;
        pg_sys::error_context_stack = callback();
    }
    true
}

/// Registers the callback for as long as it lives. On a normal return it takes the
/// callback off again; when an error unwinds through it, it leaves the callback in
/// place for pgrx's report of the error, and whoever catches that error (PostgreSQL's
/// main loop, a PL/pgSQL exception block) restores `error_context_stack` as always.
pub struct Watch {
    registered: bool,
}

pub fn watch() -> Watch {
    let registered = register();
    if registered {
        // A new call: nothing of an earlier one applies.
        STATE.with(|s| *s.borrow_mut() = State::default());
    }
    Watch { registered }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !self.registered {
            return;
        }
        if std::thread::panicking() {
            STATE.with(|s| s.borrow_mut().armed = true);
            return;
        }
        STATE.with(|s| *s.borrow_mut() = State::default());
        // SAFETY: as in `register`; the callback is taken off only while it is the
        // innermost entry, so the rest of the list stays as it was.
        unsafe {
            if pg_sys::error_context_stack == callback() {
                pg_sys::error_context_stack = (*callback()).previous;
            }
        }
    }
}

/// Prepares the report of one of the extension's own errors, which the caller
/// raises next: its statement and context stay out of the server log, and
/// `detail_log` replaces its DETAIL there.
pub fn arm(detail_log: Option<&str>) {
    register();
    STATE.with(|s| {
        let mut state = s.borrow_mut();
        state.captured = None;
        state.armed = true;
        state.detail_log = detail_log.map(c_string);
    });
}

/// Writes one LOG line to the server log, without the statement or context that
/// PostgreSQL would add: those can hold the whole payload.
pub fn log(message: &str) {
    let message = c_string(message);
    let file = c_string(file!());
    let function = c"user_metrics";
    // SAFETY: the errstart/errfinish protocol of elog.h: errmsg and the flags are
    // called only after errstart said the report is wanted, with NUL-terminated
    // strings that live until errfinish returns.
    unsafe {
        if !pg_sys::errstart_cold(PgLogLevel::LOG as c_int, std::ptr::null()) {
            return;
        }
        pg_sys::errmsg_internal(PERCENT_S.as_ptr(), message.as_ptr());
        pg_sys::errhidestmt(true);
        pg_sys::errhidecontext(true);
        // A LOG report returns; the guard turns a failure to write it into an ERROR.
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            errfinish(file.as_ptr(), line!() as c_int, function.as_ptr())
        });
    }
}

fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "")).unwrap_or_default()
}

/// A copy of a C string of an error report, or None for a null pointer.
///
/// # Safety
/// `text` is null or points to a NUL-terminated string that stays valid during the
/// call.
unsafe fn copied(text: *const c_char) -> Option<CString> {
    // SAFETY: not null, and NUL-terminated per the caller's promise.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_owned())
}

fn ptr(text: &Option<CString>) -> *const c_char {
    text.as_ref().map_or(std::ptr::null(), |t| t.as_ptr())
}

/// Called by PostgreSQL's errfinish for every report while registered, innermost
/// callbacks first, so the context so far holds only the lines added inside the call.
///
/// # Safety
/// Only PostgreSQL calls it, as an error context callback (see `register`).
#[pg_guard]
unsafe extern "C-unwind" fn complete_error(_arg: *mut c_void) {
    // SAFETY: PostgreSQL calls this from errfinish, with the error being reported on
    // top of its error data stack, which is what CopyErrorData copies. The copy is
    // made in TopMemoryContext (not ErrorContext, which errfinish resets), read, and
    // freed before returning.
    unsafe {
        // errfinish runs the callbacks in ErrorContext; a copy must be made elsewhere.
        let previous = pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
        let data = pg_sys::CopyErrorData();
        pg_sys::MemoryContextSwitchTo(previous);
        let error = &*data;
        if error.elevel == PgLogLevel::ERROR as c_int {
            let message = copied(error.message);
            let armed = STATE.with(|s| std::mem::take(&mut s.borrow_mut().armed));
            if armed {
                complete(error.sqlerrcode, &message);
            } else {
                capture(error, message);
            }
        }
        pg_sys::FreeErrorData(data);
    }
}

/// Keeps a copy of an ERROR raised inside the call.
///
/// # Safety
/// Every string pointer of `error` is null or a valid NUL-terminated string.
unsafe fn capture(error: &pg_sys::ErrorData, message: Option<CString>) {
    // SAFETY: the caller's promise, for each string `copied` reads.
    let captured = unsafe {
        Captured {
            sqlerrcode: error.sqlerrcode,
            message,
            detail_log: copied(error.detail_log),
            context: copied(error.context),
            hide_ctx: error.hide_ctx,
            schema_name: copied(error.schema_name),
            table_name: copied(error.table_name),
            column_name: copied(error.column_name),
            datatype_name: copied(error.datatype_name),
            constraint_name: copied(error.constraint_name),
            cursorpos: error.cursorpos,
            internalpos: error.internalpos,
            internalquery: copied(error.internalquery),
        }
    };
    STATE.with(|s| s.borrow_mut().captured = Some(captured));
}

/// Completes pgrx's report of the ERROR that is leaving the call.
///
/// # Safety
/// Called from an error context callback (`complete_error`), while errfinish
/// reports that ERROR: the err* functions below add to the report in progress.
unsafe fn complete(sqlerrcode: c_int, message: &Option<CString>) {
    let (captured, detail_log) = STATE.with(|s| {
        let mut state = s.borrow_mut();
        (state.captured.take(), state.detail_log.take())
    });
    // SAFETY: a report is in progress (the caller's promise), and every string
    // passed lives until this returns; errfinish copies them before it ends.
    unsafe {
        pg_sys::errhidestmt(true);
        match captured {
            Some(original) if original.sqlerrcode == sqlerrcode && original.message == *message => {
                restore(&original);
                let hint = duplicate_key::hint(
                    original.sqlerrcode,
                    original.schema_name.as_deref(),
                    original.constraint_name.as_deref(),
                );
                if let Some(hint) = hint {
                    errhint(PERCENT_S.as_ptr(), hint.as_ptr());
                }
            }
            // The extension's own error, or a Rust panic: its context (the caller's
            // statement, when called from PL/pgSQL) stays out of the log too.
            _ => {
                pg_sys::errhidecontext(true);
            }
        }
        if detail_log.is_some() {
            pg_sys::errdetail_log(PERCENT_S.as_ptr(), ptr(&detail_log));
        }
    }
}

/// Puts back what pgrx left out of a PostgreSQL error. The callbacks outside the
/// call run after this one and add their context lines after these.
///
/// # Safety
/// As for `complete`: a report is in progress.
unsafe fn restore(original: &Captured) {
    use pg_sys::{
        PG_DIAG_COLUMN_NAME, PG_DIAG_CONSTRAINT_NAME, PG_DIAG_DATATYPE_NAME, PG_DIAG_SCHEMA_NAME,
        PG_DIAG_TABLE_NAME,
    };
    // SAFETY: a report is in progress (the caller's promise), and every string
    // passed lives until this returns; the err* functions copy them.
    unsafe {
        if original.detail_log.is_some() {
            pg_sys::errdetail_log(PERCENT_S.as_ptr(), ptr(&original.detail_log));
        }
        if original.context.is_some() {
            errcontext_msg(PERCENT_S.as_ptr(), ptr(&original.context));
        }
        if original.hide_ctx {
            pg_sys::errhidecontext(true);
        }
        for (field, value) in [
            (PG_DIAG_SCHEMA_NAME, &original.schema_name),
            (PG_DIAG_TABLE_NAME, &original.table_name),
            (PG_DIAG_COLUMN_NAME, &original.column_name),
            (PG_DIAG_DATATYPE_NAME, &original.datatype_name),
            (PG_DIAG_CONSTRAINT_NAME, &original.constraint_name),
        ] {
            if value.is_some() {
                pg_sys::err_generic_string(field as c_int, ptr(value));
            }
        }
        if original.cursorpos > 0 {
            pg_sys::errposition(original.cursorpos);
        }
        if original.internalpos > 0 {
            pg_sys::internalerrposition(original.internalpos);
        }
        if original.internalquery.is_some() {
            pg_sys::internalerrquery(ptr(&original.internalquery));
        }
    }
}
