//! forget_user: a user's every row, every quarantined event that mentions the
//! address, and the users that 0.3.0 stored under a malformed form of it, removed;
//! an audit row without the address kept in forgotten_users.

use pgrx::datum::datetime_support::ToIsoString;
use pgrx::datum::TimestampWithTimeZone;
use serde::Serialize;
use user_metrics_contract::{check_address, json_mentions, mentions, normalize_email, user_key};

use super::counters::{self, Removed};
use super::quarantine;
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

/// How many quarantined events are read at a time while looking for the address.
const QUARANTINE_SLICE: i32 = 256;

/// Erases the user with this e-mail (matched as ingestion matches it), in the
/// caller's transaction. An address that no user has is still searched for in the
/// quarantine, and still recorded, so that its old events sent again are refused.
pub fn forget_user(email: &str) -> Result<Erasure> {
    if !looks_like_an_address(email) {
        // The message goes to the server log too: it does not quote the argument.
        return Err(Error::InvalidArgument(
            "forget_user needs an e-mail address: text with an @ between two non-empty parts"
                .into(),
        ));
    }
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
    let mut removed = erase_user_rows(key, &email)?;
    for (malformed_key, malformed) in malformed_forms_of(&email)? {
        let also = erase_user_rows(malformed_key, &malformed)?;
        removed.users += also.users;
        removed.sessions += also.sessions;
        removed.events += also.events;
    }
    removed.quarantined = forget_quarantined(&email)?;
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

/// What any version ever stored as an address has: an @ with text on both sides.
/// Anything less could only match fragments of other people's text.
fn looks_like_an_address(email: &str) -> bool {
    email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}

/// The user of this key and canonical e-mail, their sessions and events.
fn erase_user_rows(key: i64, email: &str) -> Result<Removed> {
    Ok(Removed {
        events: write_count(&FORGET_EVENTS, vec![key.into()])?,
        sessions: write_count(&FORGET_SESSIONS, vec![key.into()])?,
        users: write_count(&FORGET_USER_ROW, vec![key.into(), email.into()])?,
        quarantined: 0,
    })
}

/// Users stored under a form of the address that the current rule refuses but
/// that mentions it (`mailto:ana@x.com`, `<ana@x.com>`, `ana@x.com.`): they are
/// the same person, stored by a version whose rule was looser. A user whose
/// address is valid is another person, even when it holds this one
/// (`x=ana@x.com`), and stays.
fn malformed_forms_of(email: &str) -> Result<Vec<(i64, String)>> {
    let candidates = read(
        &FORGET_FIND_MENTIONING_USERS,
        || Ok(vec![email.into()]),
        |row| {
            Ok((
                column::<i64>(&row, "user_key")?,
                column::<String>(&row, "email")?,
            ))
        },
    )?;
    Ok(candidates
        .into_iter()
        .filter(|(_, stored)| check_address(stored).is_err() && mentions(stored, email))
        .collect())
}

/// Deletes every quarantined event whose payload (any string of it, keys
/// included, at any depth), message or event id mentions the address; returns
/// how many.
fn forget_quarantined(email: &str) -> Result<i64> {
    let mut after = 0_i64;
    let mut doomed = Vec::new();
    loop {
        let slice = read(
            &FORGET_SCAN_QUARANTINE,
            || Ok(vec![after.into(), QUARANTINE_SLICE.into()]),
            |row| {
                let id = column::<i64>(&row, "id")?;
                let payload = column::<String>(&row, "payload")?;
                let message = column::<String>(&row, "error_message")?;
                let event_id = column::<Option<String>>(&row, "event_id")?;
                let holds = json_mentions(&payload, email)
                    || mentions(&message, email)
                    || event_id.is_some_and(|id| mentions(&id, email));
                Ok((id, holds))
            },
        )?;
        let Some(&(last, _)) = slice.last() else {
            break;
        };
        after = last;
        doomed.extend(
            slice
                .into_iter()
                .filter(|(_, holds)| *holds)
                .map(|(id, _)| id),
        );
    }
    quarantine::remove(doomed)
}
