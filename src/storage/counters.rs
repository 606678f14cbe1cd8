//! The exact row counts that health() reports (table user_metrics.counters).

use serde::Serialize;

use crate::error::Result;
use crate::sql::{ignore, write, Args, ADD_TO_COUNTERS};

/// Rows one call added to each table (negative: removed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub users: i64,
    pub sessions: i64,
    pub events: i64,
    pub rejected: i64,
}

impl Counts {
    /// One event stored, with the user and the session the call created for it.
    pub fn of_stored_event(created_user: bool, created_session: bool) -> Counts {
        Counts {
            users: i64::from(created_user),
            sessions: i64::from(created_session),
            events: 1,
            rejected: 0,
        }
    }

    pub fn plus(self, other: Counts) -> Counts {
        Counts {
            users: self.users + other.users,
            sessions: self.sessions + other.sessions,
            events: self.events + other.events,
            rejected: self.rejected + other.rejected,
        }
    }
}

/// Rows that forget_user or purge removed from each table, as they report them.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Removed {
    pub users: i64,
    pub sessions: i64,
    pub events: i64,
    /// From the quarantine (rejected_events).
    pub quarantined: i64,
}

impl Removed {
    /// What the counters lose.
    pub fn counts(self) -> Counts {
        Counts {
            users: -self.users,
            sessions: -self.sessions,
            events: -self.events,
            rejected: -self.quarantined,
        }
    }
}

/// Adds one call's counts to this backend's row, in the call's transaction, so
/// they commit or roll back with the rows they count. Nothing to add, no write.
/// (ingest_metrics adds its counts with its statistics: `ingest_stats::record`.)
pub fn add(counts: Counts) -> Result<()> {
    if counts == Counts::default() {
        return Ok(());
    }
    write(&ADD_TO_COUNTERS, || Ok(args(counts, None)), ignore)?;
    Ok(())
}

/// The arguments of add_to_counters: the counts, then the statistics of an
/// ingest_metrics call (`stats`), or NULLs for any other call.
pub(super) fn args(counts: Counts, stats: Option<Args>) -> Args {
    let mut args: Args = vec![
        backend_slot().into(),
        counts.users.into(),
        counts.sessions.into(),
        counts.events.into(),
        counts.rejected.into(),
    ];
    args.extend(stats.unwrap_or_else(|| {
        vec![
            None::<i64>.into(),
            None::<i64>.into(),
            None::<i64>.into(),
            None::<&str>.into(),
            None::<i64>.into(),
        ]
    }));
    args
}

/// This backend's number: no two running backends share one, so concurrent
/// writers never update the same counters row.
#[cfg(feature = "pg15")]
pub(super) fn backend_slot() -> i32 {
    // SAFETY: a plain global that PostgreSQL sets once when the backend starts.
    unsafe { pgrx::pg_sys::MyBackendId }
}

/// This backend's number: no two running backends share one, so concurrent
/// writers never update the same counters row.
#[cfg(feature = "pg18")]
pub(super) fn backend_slot() -> i32 {
    // SAFETY: a plain global that PostgreSQL sets once when the backend starts.
    unsafe { pgrx::pg_sys::MyProcNumber }
}
