//! The event rows themselves.

use std::collections::HashSet;
use user_metrics_contract::Event;

use super::convert::optional_timestamptz;
use super::keys::Keys;
use super::rows::required;
use super::sessions::Sessions;
use super::statements::*;
use crate::error::Result;

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
        key_and_event_id,
    )?;
    Ok(known
        .into_iter()
        .filter_map(|(key, id)| Some((key, id?)))
        .collect())
}

fn key_and_event_id(row: pgrx::spi::SpiHeapTupleData<'_>) -> Result<(i64, Option<String>)> {
    Ok((
        required(row.get::<i64>(1)?, "user_key")?,
        row.get::<String>(2)?,
    ))
}

/// The events one call inserted.
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
        return Ok(Inserted {
            ids: HashSet::new(),
            rows: 0,
        });
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
            let n = order.len();
            let (mut user_keys, mut event_ids, mut session_ids, mut recorded) = (
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            );
            let (mut talked, mut microphone, mut speaker, mut sentiment) = (
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            );
            for (key, event) in &order {
                user_keys.push(*key);
                event_ids.push(event.event_id.as_deref());
                session_ids.push(sessions.row(&event.email, &event.session_id)?.id);
                recorded.push(optional_timestamptz(event.recorded_at)?);
                talked.push(event.talked_time.to_string());
                microphone.push(event.microphone_used);
                speaker.push(event.speaker_used);
                sentiment.push(event.voice_sentiment.map(|s| s.to_string()));
            }
            Ok(vec![
                user_keys.into(),
                event_ids.into(),
                session_ids.into(),
                recorded.into(),
                talked.into(),
                microphone.into(),
                speaker.into(),
                sentiment.into(),
            ])
        },
        key_and_event_id,
    )?;
    Ok(Inserted {
        rows: stored.len(),
        ids: stored
            .into_iter()
            .filter_map(|(key, id)| Some((key, id?)))
            .collect(),
    })
}
