//! forget_user: a user's every row, and every quarantined event that holds the
//! address, removed; an audit row without the address kept in forgotten_users.

use pgrx::datum::datetime_support::ToIsoString;
use pgrx::datum::TimestampWithTimeZone;
use serde::Serialize;
use user_metrics_contract::{normalize_email, user_key};

use super::counters::{self, Removed};
use crate::error::{Error, Result};
use crate::sql::*;

/// What one erasure removed, as forget_user returns it.
#[derive(Debug, Serialize)]
pub struct Erasure {
    pub user_key: i64,
    #[serde(flatten)]
    pub removed: Removed,
    #[serde(serialize_with = "iso_8601")]
    pub forgotten_at: TimestampWithTimeZone,
}

fn iso_8601<S: serde::Serializer>(
    at: &TimestampWithTimeZone,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_iso_string())
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
        |row| column::<String>(&row, "email"),
    )?;
    if holder.iter().any(|held| *held != email) {
        return Err(Error::KeyHeldByAnother);
    }
    let removed = Removed {
        events: write_count(&FORGET_EVENTS, vec![key.into()])?,
        sessions: write_count(&FORGET_SESSIONS, vec![key.into()])?,
        users: write_count(&FORGET_USER_ROW, vec![key.into(), email.as_str().into()])?,
        quarantined: write_count(&FORGET_QUARANTINED, vec![email.as_str().into()])?,
    };
    let recorded = write(
        &FORGET_RECORD,
        || {
            Ok(vec![
                key.into(),
                removed.users.into(),
                removed.sessions.into(),
                removed.events.into(),
                removed.quarantined.into(),
            ])
        },
        |row| column::<TimestampWithTimeZone>(&row, "forgotten_at"),
    )?;
    let forgotten_at = recorded
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("the erasure was not recorded".into()))?;
    counters::add(removed.counts())?;
    Ok(Erasure {
        user_key: key,
        removed,
        forgotten_at,
    })
}
