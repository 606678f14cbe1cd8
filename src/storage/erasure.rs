//! forget_user: a user's every row, and every quarantined event that holds the
//! address, removed; an audit row without the address kept in forgotten_users.

use pgrx::datum::TimestampWithTimeZone;
use user_metrics_contract::{normalize_email, user_key};

use super::counters::{self, Counts};
use super::rows::required;
use super::statements::*;
use crate::error::{Error, Result};

/// What one erasure removed.
#[derive(Debug)]
pub struct Erasure {
    pub user_key: i64,
    pub users: i64,
    pub sessions: i64,
    pub events: i64,
    pub quarantined: i64,
    pub forgotten_at: TimestampWithTimeZone,
}

/// Erases the user with this e-mail (matched as ingestion matches it), in the
/// caller's transaction. An address that no user has is still searched for in the
/// quarantine, and still recorded, so that its old events sent again are refused.
pub fn forget_user(email: &str) -> Result<Erasure> {
    let email = normalize_email(email).into_owned();
    let key = user_key(&email);
    let holder = read(
        &FORGET_FIND_USER,
        || Ok(vec![key.into()]),
        |row| required(row.get::<String>(1)?, "email"),
    )?;
    if holder.iter().any(|held| *held != email) {
        return Err(Error::KeyHeldByAnother);
    }
    let events = write_count(&FORGET_EVENTS, vec![key.into()])?;
    let sessions = write_count(&FORGET_SESSIONS, vec![key.into()])?;
    let users = write_count(&FORGET_USER_ROW, vec![key.into(), email.as_str().into()])?;
    let quarantined = write_count(&FORGET_QUARANTINED, vec![email.as_str().into()])?;
    let recorded = write(
        &FORGET_RECORD,
        || {
            Ok(vec![
                key.into(),
                users.into(),
                sessions.into(),
                events.into(),
                quarantined.into(),
            ])
        },
        |row| required(row.get::<TimestampWithTimeZone>(1)?, "forgotten_at"),
    )?;
    let forgotten_at = recorded
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("the erasure was not recorded".into()))?;
    counters::add(Counts {
        users: -users,
        sessions: -sessions,
        events: -events,
        rejected: -quarantined,
    })?;
    Ok(Erasure {
        user_key: key,
        users,
        sessions,
        events,
        quarantined,
        forgotten_at,
    })
}
