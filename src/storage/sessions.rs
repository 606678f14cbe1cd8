//! The sessions of a batch: created with their totals, or locked and added to.

use std::collections::{BTreeMap, HashMap};
use user_metrics_contract::{Decimal, Event, SessionTotals};

use super::convert::{optional_timestamptz, timestamptz};
use super::rows::{count, required, text_and_id};
use super::statements::*;
use super::users::Users;
use crate::error::{Error, Result};

/// One session of the batch, locked by this call.
pub struct SessionRow {
    pub id: i64,
    /// The user the session belongs to.
    pub user_id: i64,
    /// Created by this call, with the totals it was created with.
    pub created: bool,
}

/// Every session the batch may add to, locked.
pub struct Sessions<'u> {
    rows: HashMap<String, SessionRow>,
    users: &'u Users,
}

impl<'u> Sessions<'u> {
    pub fn row(&self, session_id: &str) -> Result<&SessionRow> {
        self.rows
            .get(session_id)
            .ok_or_else(|| Error::Internal(format!("session {session_id:?} was not locked")))
    }

    /// The e-mail of the session's owner (`SOMEONE_ELSE` for a user who sent
    /// nothing in this batch), for the sessions of the batch.
    pub fn owner_of(&self, session_id: &str) -> Option<&'u str> {
        let users = self.users;
        self.rows
            .get(session_id)
            .map(|row| users.email_of(row.user_id))
    }
}

/// Creates the sessions that do not exist yet, each with `assumed` totals (those
/// of the batch's events for it), or, without any, with none; locks the ones that
/// exist. `first_events` holds, per session id in sorted order, the first event
/// that may be stored: a new session belongs to its user.
pub fn create_or_lock<'e, 'u>(
    first_events: &BTreeMap<&'e str, &'e Event>,
    assumed: &BTreeMap<&'e str, SessionTotals<'e>>,
    users: &'u Users,
) -> Result<Sessions<'u>> {
    let ids: Vec<&str> = first_events.keys().copied().collect();
    let mut rows = find(ids.clone())?;

    let created = write(
        &CREATE_OR_LOCK_SESSIONS,
        || {
            let mut owners = Vec::with_capacity(ids.len());
            let mut columns = TotalsColumns::with_capacity(ids.len());
            for (&session_id, &first) in first_events {
                let mut totals = match assumed.get(session_id) {
                    Some(totals) => totals.clone(),
                    // No event of the batch is assumed to be stored in it: if the session
                    // is new, it is removed again once that is confirmed.
                    None => SessionTotals {
                        email: &first.email,
                        started_at: first.started_at,
                        ended_at: None,
                        device: None,
                        event_count: 0,
                        talked_time: Decimal::ZERO,
                        microphone_used: None,
                        speaker_used: None,
                        sentiment_sum: Decimal::ZERO,
                        sentiment_count: 0,
                    },
                };
                if rows.contains_key(session_id) {
                    // Only locked: its values are not used, so spare parsing the device.
                    totals.device = None;
                }
                owners.push(users.id_of(&first.email)?);
                columns.push(&totals)?;
            }
            let mut args: Args = vec![ids.clone().into(), owners.into()];
            args.extend(columns.into_args());
            Ok(args)
        },
        text_and_id,
    )?;
    for (session_id, id) in created {
        let first = first_events
            .get(session_id.as_str())
            .ok_or_else(|| Error::Internal(format!("created an unknown session {session_id:?}")))?;
        let user_id = users.id_of(&first.email)?;
        rows.insert(
            session_id,
            SessionRow {
                id,
                user_id,
                created: true,
            },
        );
    }
    // Sessions that a concurrent call created after the first lookup: now locked.
    let raced: Vec<&str> = ids.into_iter().filter(|s| !rows.contains_key(*s)).collect();
    if !raced.is_empty() {
        rows.extend(find(raced)?);
    }
    Ok(Sessions { rows, users })
}

fn find(ids: Vec<&str>) -> Result<HashMap<String, SessionRow>> {
    let found = read(
        &FIND_SESSIONS,
        || Ok(vec![ids.into()]),
        |row| {
            let session_id: String = required(row.get(1)?, "client_session_id")?;
            let id: i64 = required(row.get(2)?, "id")?;
            let user_id: i64 = required(row.get(3)?, "user_id")?;
            Ok((
                session_id,
                SessionRow {
                    id,
                    user_id,
                    created: false,
                },
            ))
        },
    )?;
    Ok(found.into_iter().collect())
}

/// Brings every session to the totals of the events actually stored: adds them to
/// the sessions that existed, and corrects (or removes) the sessions this call
/// created where the stored events differ from those assumed at creation. Returns
/// how many sessions this call added in the end (created, less those removed).
pub fn settle(
    sessions: &Sessions,
    assumed: &BTreeMap<&str, SessionTotals<'_>>,
    stored: &BTreeMap<&str, SessionTotals<'_>>,
) -> Result<i64> {
    let mut add: Vec<(i64, &SessionTotals)> = Vec::new();
    let mut set: Vec<(i64, &SessionTotals)> = Vec::new();
    for (&session_id, totals) in stored {
        let row = sessions.row(session_id)?;
        if !row.created {
            add.push((row.id, totals));
        } else if assumed.get(session_id) != Some(totals) {
            set.push((row.id, totals));
        }
    }
    let empty: Vec<i64> = sessions
        .rows
        .iter()
        .filter(|(session_id, row)| row.created && !stored.contains_key(session_id.as_str()))
        .map(|(_, row)| row.id)
        .collect();
    for (statement, sessions) in [(&ADD_TO_SESSIONS, add), (&SET_SESSION_TOTALS, set)] {
        if sessions.is_empty() {
            continue;
        }
        write(
            statement,
            || {
                let mut columns = TotalsColumns::with_capacity(sessions.len());
                for (_, totals) in &sessions {
                    columns.push(totals)?;
                }
                let ids: Vec<i64> = sessions.iter().map(|(id, _)| *id).collect();
                let mut args: Args = vec![ids.into()];
                args.extend(columns.into_args());
                Ok(args)
            },
            ignore,
        )?;
    }
    let created = sessions.rows.values().filter(|row| row.created).count();
    let mut removed = 0;
    if !empty.is_empty() {
        removed = write(&DELETE_EMPTY_SESSIONS, || Ok(vec![empty.into()]), ignore)?.len();
    }
    count(created - removed)
}

/// Session totals as the array parameters the session statements take, in the
/// order they take them after the key columns.
struct TotalsColumns<'e> {
    started_at: Vec<pgrx::datum::TimestampWithTimeZone>,
    ended_at: Vec<Option<pgrx::datum::TimestampWithTimeZone>>,
    device: Vec<Option<&'e str>>,
    event_count: Vec<i64>,
    /// Exact decimals, as text that the statements cast to numeric.
    talked_time: Vec<String>,
    microphone_used: Vec<Option<bool>>,
    speaker_used: Vec<Option<bool>>,
    sentiment_sum: Vec<String>,
    sentiment_count: Vec<i64>,
}

impl<'e> TotalsColumns<'e> {
    fn with_capacity(n: usize) -> Self {
        TotalsColumns {
            started_at: Vec::with_capacity(n),
            ended_at: Vec::with_capacity(n),
            device: Vec::with_capacity(n),
            event_count: Vec::with_capacity(n),
            talked_time: Vec::with_capacity(n),
            microphone_used: Vec::with_capacity(n),
            speaker_used: Vec::with_capacity(n),
            sentiment_sum: Vec::with_capacity(n),
            sentiment_count: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, t: &SessionTotals<'e>) -> Result<()> {
        self.started_at.push(timestamptz(t.started_at)?);
        self.ended_at.push(optional_timestamptz(t.ended_at)?);
        self.device.push(t.device);
        self.event_count.push(t.event_count);
        self.talked_time.push(t.talked_time.to_string());
        self.microphone_used.push(t.microphone_used);
        self.speaker_used.push(t.speaker_used);
        self.sentiment_sum.push(t.sentiment_sum.to_string());
        self.sentiment_count.push(t.sentiment_count);
        Ok(())
    }

    fn into_args(self) -> Args {
        vec![
            self.started_at.into(),
            self.ended_at.into(),
            self.device.into(),
            self.event_count.into(),
            self.talked_time.into(),
            self.microphone_used.into(),
            self.speaker_used.into(),
            self.sentiment_sum.into(),
            self.sentiment_count.into(),
        ]
    }
}
