//! The sessions of a batch: which exist and which the call creates, their rows as
//! the store statement takes them, and their totals brought to the events actually
//! stored. A session is a user's: it is known by the user's key and the client's
//! session id, and the same session id sent by two users names two sessions.

use super::key_hash::HashMap;
use pgrx::datum::TimestampWithTimeZone;
use std::collections::BTreeMap;
use user_metrics_contract::{session_totals, Event, SessionKey, SessionTotals};

use super::keys::Keys;
use crate::error::{Error, Result};
use crate::sql::*;

/// Where a session of the batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not stored before the call, not created yet.
    New,
    /// Created by this call (with the totals the batch assumed for it).
    Created(i64),
    /// Stored before the call (or by a concurrent call meanwhile); locked by this
    /// call once the store statement has run.
    Existing(i64),
}

/// One session the batch stores events in.
pub struct Session<'e> {
    pub user_key: i64,
    pub key: SessionKey<'e>,
    pub state: State,
}

impl Session<'_> {
    pub fn id(&self) -> Option<i64> {
        match self.state {
            State::New => None,
            State::Created(id) | State::Existing(id) => Some(id),
        }
    }
}

/// The batch's sessions in the order they are locked: by user key, then session id
/// (the order of the unique index), the same in every call.
pub struct Sessions<'e> {
    pub sorted: Vec<Session<'e>>,
}

impl<'e> Sessions<'e> {
    /// The sessions of `assumed` (those the batch stores events in), with their
    /// state from `existing` (row ids by user key and session id).
    pub fn new(
        assumed: &BTreeMap<SessionKey<'e>, SessionTotals<'e>>,
        keys: &Keys,
        existing: &HashMap<(i64, &'e str), i64>,
    ) -> Result<Sessions<'e>> {
        let mut sorted = Vec::with_capacity(assumed.len());
        for &(email, session_id) in assumed.keys() {
            let user_key = keys.of_email(email)?;
            let state = match existing.get(&(user_key, session_id)) {
                Some(&id) => State::Existing(id),
                None => State::New,
            };
            sorted.push(Session {
                user_key,
                key: (email, session_id),
                state,
            });
        }
        sorted.sort_unstable_by(|a, b| (a.user_key, a.key.1).cmp(&(b.user_key, b.key.1)));
        Ok(Sessions { sorted })
    }

    pub fn count(&self, state: impl Fn(State) -> bool) -> usize {
        self.sorted.iter().filter(|s| state(s.state)).count()
    }

    /// Records the sessions the store statement created, by user key and session id.
    pub fn created(&mut self, created: &HashMap<(i64, &str), i64>) {
        for session in &mut self.sorted {
            if let Some(&id) = created.get(&(session.user_key, session.key.1)) {
                session.state = State::Created(id);
            }
        }
    }

    /// Records the sessions found existing after all (created by a concurrent call).
    pub fn existing(&mut self, found: &HashMap<(i64, &str), i64>) {
        for session in &mut self.sorted {
            if let Some(&id) = found.get(&(session.user_key, session.key.1)) {
                if session.state == State::New {
                    session.state = State::Existing(id);
                }
            }
        }
    }

    /// The row id of the session of (e-mail, session id), once it has one.
    pub fn id_of(&self) -> HashMap<SessionKey<'e>, Option<i64>> {
        self.sorted.iter().map(|s| (s.key, s.id())).collect()
    }
}

parameter_rows! {
    /// A session's totals as the statements take them, after the two key columns.
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
    pub fn of(t: &SessionTotals<'e>) -> Result<TotalsRow<'e>> {
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
}

/// The totals that `event`, a call's only one, gives its session.
pub fn totals_of_one<'e>(event: &'e Event<'_>) -> Result<TotalsRow<'e>> {
    TotalsRow::of(&one_session(event)?)
}

/// The totals that `event`, a call's only one, gives its session.
pub fn one_session<'e>(event: &'e Event<'_>) -> Result<SessionTotals<'e>> {
    session_totals(std::slice::from_ref(event), |_| true)
        .into_values()
        .next()
        .ok_or_else(|| Error::Internal("one event, no session totals".into()))
}

/// The statement's arguments for sessions with totals: their two key columns
/// (user key, then `second`: the session id or the row id), then the totals.
pub fn totals_args<K>(rows: Vec<(i64, K, TotalsRow<'_>)>) -> Args
where
    Vec<K>: Into<pgrx::datum::DatumWithOid<'static>>,
{
    let mut user_keys = Vec::with_capacity(rows.len());
    let mut second = Vec::with_capacity(rows.len());
    let mut totals = Vec::with_capacity(rows.len());
    for (user_key, key, row) in rows {
        user_keys.push(user_key);
        second.push(key);
        totals.push(row);
    }
    let mut args: Args = vec![user_keys.into(), second.into()];
    args.extend(TotalsRow::into_args(totals));
    args
}
