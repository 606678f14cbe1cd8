//! The sessions of a batch: created with their totals, or locked and added to.
//! A session is a user's: it is known by the user's key and the client's session
//! id, and the same session id sent by two users names two sessions.

use pgrx::datum::TimestampWithTimeZone;
use std::collections::{BTreeMap, HashMap};
use user_metrics_contract::{Decimal, Event, SessionKey, SessionTotals};

use super::keys::Keys;
use crate::error::{Error, Result};
use crate::sql::*;

/// One session of the batch, locked by this call.
pub struct SessionRow {
    pub id: i64,
    pub user_key: i64,
    /// Created by this call, with the totals it was created with.
    pub created: bool,
}

/// Every session the batch may add to, locked, by (e-mail, session id) as the
/// batch's events spell them (borrowed: a lookup per event allocates nothing).
pub struct Sessions<'e> {
    rows: HashMap<SessionKey<'e>, SessionRow>,
}

impl<'e> Sessions<'e> {
    pub fn row(&self, email: &'e str, session_id: &'e str) -> Result<&SessionRow> {
        self.rows
            .get(&(email, session_id))
            .ok_or_else(|| Error::Internal(format!("session {session_id:?} was not locked")))
    }
}

/// The batch's sessions in the order they are locked: by user key, then session id
/// (the order of the unique index), the same in every call.
fn lock_order<'e>(
    first_events: &BTreeMap<SessionKey<'e>, &'e Event<'e>>,
    keys: &Keys,
) -> Result<Vec<(i64, SessionKey<'e>)>> {
    let mut order = Vec::with_capacity(first_events.len());
    for &(email, session_id) in first_events.keys() {
        order.push((keys.of_email(email)?, (email, session_id)));
    }
    order.sort_unstable_by(|a, b| (a.0, a.1 .1).cmp(&(b.0, b.1 .1)));
    Ok(order)
}

/// Creates the sessions that do not exist yet, each with `assumed` totals (those
/// of the batch's events for it), or, without any, with none; locks the ones that
/// exist. `first_events` holds, per session, the first event that may be stored.
pub fn create_or_lock<'e>(
    first_events: &BTreeMap<SessionKey<'e>, &'e Event<'e>>,
    assumed: &BTreeMap<SessionKey<'e>, SessionTotals<'e>>,
    keys: &Keys,
) -> Result<Sessions<'e>> {
    let order = lock_order(first_events, keys)?;
    let wanted: Vec<(i64, &str, &str)> = order
        .iter()
        .map(|&(key, (email, session_id))| (key, email, session_id))
        .collect();
    let mut rows = find(&wanted)?;

    let created = write(
        &CREATE_OR_LOCK_SESSIONS,
        || {
            let mut user_keys = Vec::with_capacity(order.len());
            let mut session_ids = Vec::with_capacity(order.len());
            let mut totals = Vec::with_capacity(order.len());
            for &(key, session) in &order {
                let mut row = match assumed.get(&session) {
                    Some(assumed) => TotalsRow::of(assumed)?,
                    // No event of the batch is assumed to be stored in it: if the session
                    // is new, it is removed again once that is confirmed.
                    None => TotalsRow::empty(first_events[&session])?,
                };
                if rows.contains_key(&session) {
                    // Only locked: its values are not used, so spare parsing the device.
                    row.device = None;
                }
                user_keys.push(key);
                session_ids.push(session.1);
                totals.push(row);
            }
            let mut args: Args = vec![user_keys.into(), session_ids.into()];
            args.extend(TotalsRow::into_args(totals));
            Ok(args)
        },
        SessionId::read,
    )?;
    let batch_key = batch_keys(&wanted);
    for created in created {
        let session = batch_key
            .get(&(created.user_key, created.client_session_id.as_str()))
            .ok_or_else(|| {
                Error::Internal(format!(
                    "created an unknown session {:?}",
                    created.client_session_id
                ))
            })?;
        rows.insert(*session, created.locked(true));
    }
    // Sessions that a concurrent call created after the first lookup: now locked.
    let raced: Vec<(i64, &str, &str)> = wanted
        .iter()
        .copied()
        .filter(|&(_, email, session_id)| !rows.contains_key(&(email, session_id)))
        .collect();
    if !raced.is_empty() {
        rows.extend(find(&raced)?);
    }
    Ok(Sessions { rows })
}

result_row! {
    /// A stored session, as find_sessions and create_or_lock_sessions return it.
    pub struct SessionId {
        user_key: i64,
        client_session_id: String,
        id: i64,
    }
}

impl SessionId {
    fn locked(&self, created: bool) -> SessionRow {
        SessionRow {
            id: self.id,
            user_key: self.user_key,
            created,
        }
    }
}

/// Each of `wanted` (user key, e-mail, session id) by user key and session id: how
/// the database names it.
fn batch_keys<'e>(wanted: &[(i64, &'e str, &'e str)]) -> HashMap<(i64, &'e str), SessionKey<'e>> {
    wanted
        .iter()
        .map(|&(key, email, session_id)| ((key, session_id), (email, session_id)))
        .collect()
}

/// The existing sessions among `wanted` (user key, e-mail, session id).
fn find<'e>(wanted: &[(i64, &'e str, &'e str)]) -> Result<HashMap<SessionKey<'e>, SessionRow>> {
    let batch_key = batch_keys(wanted);
    let found = read(
        &FIND_SESSIONS,
        || {
            let keys: Vec<i64> = wanted.iter().map(|w| w.0).collect();
            let ids: Vec<&str> = wanted.iter().map(|w| w.2).collect();
            Ok(vec![keys.into(), ids.into()])
        },
        SessionId::read,
    )?;
    let mut rows = HashMap::with_capacity(found.len());
    for found in found {
        if let Some(session) = batch_key.get(&(found.user_key, found.client_session_id.as_str())) {
            rows.insert(*session, found.locked(false));
        }
    }
    Ok(rows)
}

/// Brings every session to the totals of the events actually stored: adds them to
/// the sessions that existed, and corrects (or removes) the sessions this call
/// created where the stored events differ from those assumed at creation. Returns
/// how many sessions this call added in the end (created, less those removed).
pub fn settle(
    sessions: &Sessions,
    assumed: &BTreeMap<SessionKey<'_>, SessionTotals<'_>>,
    stored: &BTreeMap<SessionKey<'_>, SessionTotals<'_>>,
) -> Result<i64> {
    let mut add: Vec<(&SessionRow, &SessionTotals)> = Vec::new();
    let mut set: Vec<(&SessionRow, &SessionTotals)> = Vec::new();
    for (&(email, session_id), totals) in stored {
        let row = sessions.row(email, session_id)?;
        if !row.created {
            add.push((row, totals));
        } else if assumed.get(&(email, session_id)) != Some(totals) {
            set.push((row, totals));
        }
    }
    let empty: Vec<&SessionRow> = sessions
        .rows
        .iter()
        .filter(|(session, row)| row.created && !stored.contains_key(*session))
        .map(|(_, row)| row)
        .collect();
    for (statement, sessions) in [(&ADD_TO_SESSIONS, add), (&SET_SESSION_TOTALS, set)] {
        if sessions.is_empty() {
            continue;
        }
        write(
            statement,
            || {
                let mut totals = Vec::with_capacity(sessions.len());
                for (_, session_totals) in &sessions {
                    totals.push(TotalsRow::of(session_totals)?);
                }
                let keys: Vec<i64> = sessions.iter().map(|(row, _)| row.user_key).collect();
                let ids: Vec<i64> = sessions.iter().map(|(row, _)| row.id).collect();
                let mut args: Args = vec![keys.into(), ids.into()];
                args.extend(TotalsRow::into_args(totals));
                Ok(args)
            },
            ignore,
        )?;
    }
    let created = sessions.rows.values().filter(|row| row.created).count();
    let mut removed = 0;
    if !empty.is_empty() {
        removed = write(
            &DELETE_SESSIONS,
            || {
                let keys: Vec<i64> = empty.iter().map(|row| row.user_key).collect();
                let ids: Vec<i64> = empty.iter().map(|row| row.id).collect();
                Ok(vec![keys.into(), ids.into()])
            },
            ignore,
        )?
        .len();
    }
    count(created - removed)
}

parameter_rows! {
    /// A session's totals as create_or_lock_sessions, add_to_sessions and
    /// set_session_totals take them, after the two key columns.
    pub struct TotalsRow<'e> {
        started_at: TimestampWithTimeZone,
        ended_at: Option<TimestampWithTimeZone>,
        /// JSON text, which the statements cast to jsonb.
        device: Option<&'e str>,
        event_count: i64,
        /// Exact decimals, as text that the statements cast to numeric.
        talked_time: String,
        microphone_used: Option<bool>,
        speaker_used: Option<bool>,
        sentiment_sum: String,
        sentiment_count: i64,
    }
}

impl<'e> TotalsRow<'e> {
    fn of(t: &SessionTotals<'e>) -> Result<TotalsRow<'e>> {
        Ok(TotalsRow {
            started_at: timestamptz(t.started_at)?,
            ended_at: optional_timestamptz(t.ended_at)?,
            device: t.device,
            event_count: t.event_count,
            talked_time: t.talked_time.to_string(),
            microphone_used: t.microphone_used,
            speaker_used: t.speaker_used,
            sentiment_sum: t.sentiment_sum.to_string(),
            sentiment_count: t.sentiment_count,
        })
    }

    /// A session without events, which starts when `first` says.
    fn empty(first: &Event<'_>) -> Result<TotalsRow<'e>> {
        Ok(TotalsRow {
            started_at: timestamptz(first.started_at)?,
            ended_at: None,
            device: None,
            event_count: 0,
            talked_time: Decimal::ZERO.to_string(),
            microphone_used: None,
            speaker_used: None,
            sentiment_sum: Decimal::ZERO.to_string(),
            sentiment_count: 0,
        })
    }
}
