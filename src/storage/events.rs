//! The event rows themselves.

use std::collections::HashSet;
use user_metrics_contract::Event;

use pgrx::datum::TimestampWithTimeZone;

use super::keys::Keys;
use super::sessions::Sessions;
use crate::error::Result;
use crate::sql::*;

/// A user's event_id, as stored: (user key, event_id).
pub type StoredId = (i64, String);

/// The (user, event_id) pairs of the batch that are already stored.
pub fn stored_before(events: &[Event], keys: &Keys) -> Result<HashSet<StoredId>> {
    let mut sent: HashSet<(i64, &str)> = HashSet::new();
    for event in events {
        if let Some(id) = event.event_id.as_deref() {
            sent.insert((keys.of_email(&event.email)?, id));
        }
    }
    if sent.is_empty() {
        return Ok(HashSet::new());
    }
    let known = read(
        &KNOWN_EVENT_IDS,
        || {
            let (user_keys, ids): (Vec<i64>, Vec<&str>) = sent.iter().copied().unzip();
            Ok(vec![user_keys.into(), ids.into()])
        },
        EventId::read,
    )?;
    Ok(known.into_iter().filter_map(EventId::stored_id).collect())
}

result_row! {
    /// A stored event's user and event_id, as known_event_ids and insert_events
    /// return them (insert_events: a NULL event_id for an event sent without one).
    pub struct EventId {
        user_key: i64,
        event_id: Option<String>,
    }
}

impl EventId {
    fn stored_id(self) -> Option<StoredId> {
        Some((self.user_key, self.event_id?))
    }
}

parameter_rows! {
    /// An event row as insert_events takes it.
    pub struct EventRow<'e> {
        user_key: i64,
        event_id: Option<&'e str>,
        session_id: i64,
        recorded_at: Option<TimestampWithTimeZone>,
        /// Exact decimals, as text that the statement casts to numeric.
        talked_time: String,
        microphone_used: Option<bool>,
        speaker_used: Option<bool>,
        voice_sentiment: Option<String>,
    }
}

/// The events one call inserted.
#[derive(Default)]
pub struct Inserted {
    /// The (user, event_id) pairs of the stored events that have an event_id.
    pub ids: HashSet<StoredId>,
    /// How many rows were inserted, with or without an event_id.
    pub rows: usize,
}

/// Inserts `to_store`; returns what was actually stored. One that a concurrent
/// call stored meanwhile is skipped (and is then a duplicate).
pub fn insert(to_store: &[&Event], keys: &Keys, sessions: &Sessions) -> Result<Inserted> {
    if to_store.is_empty() {
        return Ok(Inserted::default());
    }
    // Sorted by user key and event_id, so that concurrent calls wait for each
    // other's unique-index entries in one order.
    let mut order: Vec<(i64, &Event)> = Vec::with_capacity(to_store.len());
    for event in to_store {
        order.push((keys.of_email(&event.email)?, event));
    }
    order.sort_by(|a, b| (a.0, &a.1.event_id).cmp(&(b.0, &b.1.event_id)));

    let stored = write(
        &INSERT_EVENTS,
        || {
            let mut rows = Vec::with_capacity(order.len());
            for &(user_key, event) in &order {
                rows.push(EventRow {
                    user_key,
                    event_id: event.event_id.as_deref(),
                    session_id: sessions.row(&event.email, &event.session_id)?.id,
                    recorded_at: optional_timestamptz(event.recorded_at)?,
                    talked_time: event.talked_time.to_string(),
                    microphone_used: event.microphone_used,
                    speaker_used: event.speaker_used,
                    voice_sentiment: event.voice_sentiment.map(|s| s.to_string()),
                });
            }
            Ok(EventRow::into_args(rows))
        },
        EventId::read,
    )?;
    Ok(Inserted {
        rows: stored.len(),
        ids: stored.into_iter().filter_map(EventId::stored_id).collect(),
    })
}
