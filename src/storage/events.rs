//! Storing a batch of valid events: users, sessions, events and running totals.
//!
//! Concurrency: every lock a call takes is taken in one global order per table
//! (users by e-mail, sessions by session id, events by event_id, renamed users by
//! id), and the tables in the same order (users, sessions, events, users renamed),
//! so concurrent calls on overlapping users and sessions wait for each other but
//! never deadlock. All of it runs in the caller's transaction: a call is stored
//! whole or not at all.

use pgrx::datum::DatumWithOid;
use pgrx::spi::{SpiClient, SpiTupleTable};
use std::collections::{BTreeMap, HashMap, HashSet};
use user_metrics_contract::{Event, RejectCode, Rejection, Timestamp};

use super::convert::{optional_timestamptz, timestamptz};
use super::statements::*;
use crate::error::{Error, Result};

/// What became of one valid event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stored,
    /// Its event_id was stored before, by an earlier call or earlier in this one.
    Duplicate,
    /// Its session belongs to another user.
    Conflict(Rejection),
}

/// Stores `events` (each with its index in the batch, in batch order) and returns
/// the outcome of each, in the same order. With `stop_at_conflict`, the first
/// session_user_conflict is returned as an error before any event is written.
pub fn store_events(
    client: &mut SpiClient<'_>,
    events: &[(usize, Event)],
    stop_at_conflict: bool,
) -> Result<Vec<Outcome>> {
    let users = upsert_users(client, events)?;
    let sessions = lock_sessions(client, events, &users)?;

    // Decide each event's fate before writing any of them.
    let mut outcomes: Vec<Option<Outcome>> = vec![None; events.len()];
    let mut ids_seen: HashSet<&str> = HashSet::new();
    let mut to_insert: Vec<usize> = Vec::with_capacity(events.len());
    for (position, (index, event)) in events.iter().enumerate() {
        let session = sessions.row(&event.session_id)?;
        if session.user_id != users.id_of(event)? {
            let rejection = Rejection::new(
                RejectCode::SessionUserConflict,
                "session.id",
                format!("session {:?} belongs to another user", event.session_id),
            );
            if stop_at_conflict {
                return Err(Error::InvalidEvent {
                    index: *index,
                    rejection,
                });
            }
            outcomes[position] = Some(Outcome::Conflict(rejection));
        } else if event
            .event_id
            .as_deref()
            .is_some_and(|id| !ids_seen.insert(id))
        {
            outcomes[position] = Some(Outcome::Duplicate);
        } else {
            to_insert.push(position);
        }
    }

    let stored = insert_events(client, events, &to_insert, &sessions)?;
    for &position in &to_insert {
        let is_new = match &events[position].1.event_id {
            None => true,
            Some(id) => stored.contains(id.as_str()),
        };
        outcomes[position] = Some(if is_new {
            Outcome::Stored
        } else {
            Outcome::Duplicate
        });
    }
    // In batch order: totals and names follow the order events were sent in.
    let stored_positions: Vec<usize> = (0..events.len())
        .filter(|&p| outcomes[p] == Some(Outcome::Stored))
        .collect();

    let touched_sessions = add_to_sessions(client, events, &stored_positions, &sessions)?;
    let users_with_events: HashSet<i64> = stored_positions
        .iter()
        .map(|&p| users.id_of(&events[p].1))
        .collect::<Result<_>>()?;
    remove_unused(
        client,
        &sessions.created,
        &touched_sessions,
        &users.created,
        &users_with_events,
    )?;
    rename_users(client, events, &stored_positions, &users)?;

    outcomes
        .into_iter()
        .map(|o| o.ok_or_else(|| Error::Internal("event without outcome".into())))
        .collect()
}

/// The users of a batch: every e-mail's user id, and which of them this call created.
struct Users {
    ids: HashMap<String, i64>,
    created: Vec<i64>,
}

impl Users {
    fn id_of(&self, event: &Event) -> Result<i64> {
        self.ids
            .get(&event.email)
            .copied()
            .ok_or_else(|| Error::Internal(format!("no user row for {}", event.email)))
    }
}

fn upsert_users(client: &mut SpiClient<'_>, events: &[(usize, Event)]) -> Result<Users> {
    let mut emails: Vec<&str> = events.iter().map(|(_, e)| e.email.as_str()).collect();
    emails.sort_unstable();
    emails.dedup();
    let created = first_column_i64(execute(client, &INSERT_USERS, &[emails.clone().into()])?)?;
    let mut ids = HashMap::with_capacity(emails.len());
    for row in query(client, &USER_IDS, &[emails.into()])? {
        let email: String = required(row.get(1)?, "email")?;
        let id: i64 = required(row.get(2)?, "id")?;
        ids.insert(email, id);
    }
    Ok(Users { ids, created })
}

#[derive(Clone, Copy)]
struct SessionRow {
    id: i64,
    user_id: i64,
}

/// The sessions of a batch, all row-locked: each one's row, and which this call created.
struct Sessions {
    rows: HashMap<String, SessionRow>,
    created: Vec<i64>,
}

impl Sessions {
    fn row(&self, session_id: &str) -> Result<SessionRow> {
        self.rows
            .get(session_id)
            .copied()
            .ok_or_else(|| Error::Internal(format!("session {session_id:?} was not locked")))
    }
}

fn lock_sessions(
    client: &mut SpiClient<'_>,
    events: &[(usize, Event)],
    users: &Users,
) -> Result<Sessions> {
    // A new session belongs to the user of its first event in the batch.
    let mut first_user: BTreeMap<&str, i64> = BTreeMap::new();
    for (_, event) in events {
        if !first_user.contains_key(event.session_id.as_str()) {
            first_user.insert(&event.session_id, users.id_of(event)?);
        }
    }
    let ids: Vec<&str> = first_user.keys().copied().collect();
    let owners: Vec<i64> = first_user.values().copied().collect();
    let created = first_column_i64(execute(
        client,
        &LOCK_SESSIONS,
        &[ids.clone().into(), owners.into()],
    )?)?;

    let mut rows = HashMap::with_capacity(ids.len());
    for row in query(client, &SESSION_OWNERS, &[ids.into()])? {
        let client_id: String = required(row.get(1)?, "client_session_id")?;
        let id: i64 = required(row.get(2)?, "id")?;
        let user_id: i64 = required(row.get(3)?, "user_id")?;
        rows.insert(client_id, SessionRow { id, user_id });
    }
    Ok(Sessions { rows, created })
}

/// Inserts the events at `positions`; returns the event_ids actually stored.
fn insert_events(
    client: &mut SpiClient<'_>,
    events: &[(usize, Event)],
    positions: &[usize],
    sessions: &Sessions,
) -> Result<HashSet<String>> {
    if positions.is_empty() {
        return Ok(HashSet::new());
    }
    let mut order: Vec<&Event> = positions.iter().map(|&p| &events[p].1).collect();
    order.sort_by(|a, b| a.event_id.cmp(&b.event_id));

    let mut event_ids = Vec::with_capacity(order.len());
    let mut session_ids = Vec::with_capacity(order.len());
    let mut recorded = Vec::with_capacity(order.len());
    let mut talked = Vec::with_capacity(order.len());
    let mut microphone = Vec::with_capacity(order.len());
    let mut speaker = Vec::with_capacity(order.len());
    let mut sentiment = Vec::with_capacity(order.len());
    for event in order {
        event_ids.push(event.event_id.as_deref());
        session_ids.push(sessions.row(&event.session_id)?.id);
        recorded.push(optional_timestamptz(event.recorded_at)?);
        talked.push(event.talked_time);
        microphone.push(event.microphone_used);
        speaker.push(event.speaker_used);
        sentiment.push(event.voice_sentiment);
    }
    let args: [DatumWithOid; 7] = [
        event_ids.into(),
        session_ids.into(),
        recorded.into(),
        talked.into(),
        microphone.into(),
        speaker.into(),
        sentiment.into(),
    ];
    let mut stored = HashSet::new();
    for row in execute(client, &INSERT_EVENTS, &args)? {
        if let Some(id) = row.get::<String>(1)? {
            stored.insert(id);
        }
    }
    Ok(stored)
}

/// The running totals one batch adds to one session.
struct Totals<'e> {
    started_at: Timestamp,
    ended_at: Option<Timestamp>,
    device: Option<&'e str>,
    event_count: i64,
    talked_time: f64,
    microphone_used: Option<bool>,
    speaker_used: Option<bool>,
    sentiment_sum: f64,
    sentiment_count: i64,
}

/// "Used if any event says so; unknown if none says anything."
fn any_true(total: Option<bool>, event: Option<bool>) -> Option<bool> {
    match (total, event) {
        (Some(a), Some(b)) => Some(a || b),
        (a, b) => a.or(b),
    }
}

/// Adds the stored events to their sessions' totals; returns the session row ids touched.
fn add_to_sessions(
    client: &mut SpiClient<'_>,
    events: &[(usize, Event)],
    stored_positions: &[usize],
    sessions: &Sessions,
) -> Result<HashSet<i64>> {
    let mut totals: BTreeMap<i64, Totals> = BTreeMap::new();
    for &position in stored_positions {
        let event = &events[position].1;
        let session = sessions.row(&event.session_id)?.id;
        let t = totals.entry(session).or_insert(Totals {
            started_at: event.started_at,
            ended_at: None,
            device: None,
            event_count: 0,
            talked_time: 0.0,
            microphone_used: None,
            speaker_used: None,
            sentiment_sum: 0.0,
            sentiment_count: 0,
        });
        t.started_at = t.started_at.min(event.started_at);
        t.ended_at = t.ended_at.max(event.ended_at);
        t.device = t.device.or(event.device.as_deref());
        t.event_count += 1;
        t.talked_time += event.talked_time;
        t.microphone_used = any_true(t.microphone_used, event.microphone_used);
        t.speaker_used = any_true(t.speaker_used, event.speaker_used);
        if let Some(s) = event.voice_sentiment {
            t.sentiment_sum += s;
            t.sentiment_count += 1;
        }
    }
    if totals.is_empty() {
        return Ok(HashSet::new());
    }

    let n = totals.len();
    let (mut ids, mut starts, mut ends, mut devices) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut counts, mut talked, mut microphone, mut speaker) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut sentiment_sums, mut sentiment_counts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (id, t) in &totals {
        ids.push(*id);
        starts.push(timestamptz(t.started_at)?);
        ends.push(optional_timestamptz(t.ended_at)?);
        devices.push(t.device);
        counts.push(t.event_count);
        talked.push(t.talked_time);
        microphone.push(t.microphone_used);
        speaker.push(t.speaker_used);
        sentiment_sums.push(t.sentiment_sum);
        sentiment_counts.push(t.sentiment_count);
    }
    let touched: HashSet<i64> = ids.iter().copied().collect();
    execute(
        client,
        &ADD_TO_SESSIONS,
        &[
            ids.into(),
            starts.into(),
            ends.into(),
            devices.into(),
            counts.into(),
            talked.into(),
            microphone.into(),
            speaker.into(),
            sentiment_sums.into(),
            sentiment_counts.into(),
        ],
    )?;
    Ok(touched)
}

/// Undoes the rows this call created only for events that were not stored, so that
/// a repeated or rejected event leaves no trace outside rejected_events.
fn remove_unused(
    client: &mut SpiClient<'_>,
    created_sessions: &[i64],
    touched_sessions: &HashSet<i64>,
    created_users: &[i64],
    users_with_events: &HashSet<i64>,
) -> Result<()> {
    let empty_sessions: Vec<i64> = created_sessions
        .iter()
        .copied()
        .filter(|id| !touched_sessions.contains(id))
        .collect();
    if !empty_sessions.is_empty() {
        execute(client, &DELETE_EMPTY_SESSIONS, &[empty_sessions.into()])?;
    }
    let unused_users: Vec<i64> = created_users
        .iter()
        .copied()
        .filter(|id| !users_with_events.contains(id))
        .collect();
    if !unused_users.is_empty() {
        execute(client, &DELETE_UNUSED_USERS, &[unused_users.into()])?;
    }
    Ok(())
}

/// Gives each user the last non-empty name among the stored events, in batch order.
fn rename_users(
    client: &mut SpiClient<'_>,
    events: &[(usize, Event)],
    stored_positions: &[usize],
    users: &Users,
) -> Result<()> {
    let mut latest: BTreeMap<i64, &str> = BTreeMap::new();
    for &position in stored_positions {
        let event = &events[position].1;
        if let Some(name) = &event.name {
            latest.insert(users.id_of(event)?, name);
        }
    }
    if latest.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = latest.keys().copied().collect();
    let names: Vec<&str> = latest.values().copied().collect();
    execute(client, &RENAME_USERS, &[ids.into(), names.into()])?;
    Ok(())
}

fn first_column_i64(table: SpiTupleTable<'_>) -> Result<Vec<i64>> {
    let mut values = Vec::with_capacity(table.len());
    for row in table {
        values.push(required(row.get::<i64>(1)?, "id")?);
    }
    Ok(values)
}

fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| Error::Internal(format!("unexpected NULL in column {column}")))
}
