//! purge: sessions older than a given age, with their events, the users left
//! without a session, and the quarantine of that age; one bounded batch per call.

use pgrx::datum::Interval;

use super::counters::{self, Counts};
use super::rows::{count, required};
use super::statements::*;
use crate::error::{Error, Result};

/// What one call of purge removed, and whether more is left.
#[derive(Debug)]
pub struct Purged {
    pub sessions: i64,
    pub events: i64,
    pub users: i64,
    pub quarantined: i64,
    /// A batch was full: another call has more to remove.
    pub more: bool,
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
        |row| {
            Ok((
                required(row.get::<i64>(1)?, "user_key")?,
                required(row.get::<i64>(2)?, "id")?,
            ))
        },
    )?;
    let (mut events, mut sessions, mut users) = (0, 0, 0);
    if !doomed.is_empty() {
        let mut keys: Vec<i64> = doomed.iter().map(|d| d.0).collect();
        let ids: Vec<i64> = doomed.iter().map(|d| d.1).collect();
        events = write_count(&PURGE_EVENTS, vec![keys.clone().into(), ids.clone().into()])?;
        sessions = count(
            write(
                &DELETE_SESSIONS,
                || Ok(vec![keys.clone().into(), ids.into()]),
                ignore,
            )?
            .len(),
        )?;
        keys.sort_unstable();
        keys.dedup();
        users = count(write(&DELETE_UNUSED_USERS, || Ok(vec![keys.into()]), ignore)?.len())?;
    }
    let quarantined = write_count(
        &PURGE_QUARANTINE,
        vec![older_than.into(), max_sessions.into()],
    )?;
    counters::add(Counts {
        users: -users,
        sessions: -sessions,
        events: -events,
        rejected: -quarantined,
    })?;
    let full = i64::from(max_sessions);
    Ok(Purged {
        sessions,
        events,
        users,
        quarantined,
        more: sessions == full || quarantined == full,
    })
}
