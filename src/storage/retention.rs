//! purge: sessions older than a given age, with their events, the users left
//! without a session, and the quarantine of that age; one bounded batch per call.

use pgrx::datum::Interval;
use serde::Serialize;

use super::counters::{self, Removed};
use crate::error::{Error, Result};
use crate::sql::*;

/// What one call of purge removed, and whether more is left, as purge returns it.
#[derive(Debug, Serialize)]
pub struct Purged {
    #[serde(flatten)]
    pub removed: Removed,
    /// A batch was full: another call has more to remove.
    pub more: bool,
}

result_row! {
    /// A session old enough to purge, as purge_find_sessions returns it.
    pub struct Doomed {
        user_key: i64,
        id: i64,
    }
}

/// Removes at most `max_sessions` of the oldest sessions that started more than
/// `older_than` ago, with their events, then the users left without a session,
/// and at most `max_sessions` quarantined events received more than `older_than`
/// ago; in the caller's transaction, so each call holds its locks only as long as
/// one batch takes.
pub fn purge(older_than: Interval, max_sessions: i32) -> Result<Purged> {
    if older_than.months() < 0 || older_than.days() < 0 || older_than.micros() < 0 {
        return Err(Error::InvalidArgument(
            "older_than must not be negative".into(),
        ));
    }
    if max_sessions < 1 {
        return Err(Error::InvalidArgument(format!(
            "max_sessions must be at least 1, got {max_sessions}"
        )));
    }
    let doomed = read(
        &PURGE_FIND_SESSIONS,
        || Ok(vec![older_than.into(), max_sessions.into()]),
        Doomed::read,
    )?;
    let mut removed = Removed::default();
    if !doomed.is_empty() {
        let mut keys: Vec<i64> = doomed.iter().map(|d| d.user_key).collect();
        let ids: Vec<i64> = doomed.iter().map(|d| d.id).collect();
        removed.events = write_count(&PURGE_EVENTS, vec![keys.clone().into(), ids.clone().into()])?;
        removed.sessions = count(
            write(
                &DELETE_SESSIONS,
                || Ok(vec![keys.clone().into(), ids.into()]),
                ignore,
            )?
            .len(),
        )?;
        keys.sort_unstable();
        keys.dedup();
        removed.users =
            count(write(&DELETE_UNUSED_USERS, || Ok(vec![keys.into()]), ignore)?.len())?;
    }
    removed.quarantined = write_count(
        &PURGE_QUARANTINE,
        vec![older_than.into(), max_sessions.into()],
    )?;
    counters::add(removed.counts())?;
    let full = i64::from(max_sessions);
    Ok(Purged {
        more: removed.sessions == full || removed.quarantined == full,
        removed,
    })
}
