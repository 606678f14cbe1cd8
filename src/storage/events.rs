//! The event rows themselves.

use std::collections::HashSet;
use user_metrics_contract::Event;

use super::convert::optional_timestamptz;
use super::rows::required;
use super::sessions::Sessions;
use super::statements::*;
use crate::error::Result;

/// The batch's event_ids that are already stored.
pub fn stored_before(events: &[Event]) -> Result<HashSet<String>> {
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|e| e.event_id.as_deref())
        .collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let known = read(
        &KNOWN_EVENT_IDS,
        || Ok(vec![ids.into()]),
        |row| required(row.get::<String>(1)?, "event_id"),
    )?;
    Ok(known.into_iter().collect())
}

/// The events one call inserted.
pub struct Inserted {
    /// The event_ids of the stored events that have one.
    pub event_ids: HashSet<String>,
    /// How many rows were inserted, with or without an event_id.
    pub rows: usize,
}

/// Inserts `to_store`; returns what was actually stored. One that a concurrent
/// call stored meanwhile is skipped (and is then a duplicate).
pub fn insert(to_store: &[&Event], sessions: &Sessions) -> Result<Inserted> {
    if to_store.is_empty() {
        return Ok(Inserted {
            event_ids: HashSet::new(),
            rows: 0,
        });
    }
    // Sorted by event_id, so that concurrent calls wait for each other's
    // unique-index entries in one order.
    let mut order: Vec<&Event> = to_store.to_vec();
    order.sort_by(|a, b| a.event_id.cmp(&b.event_id));

    let stored = write(
        &INSERT_EVENTS,
        || {
            let n = order.len();
            let (mut event_ids, mut session_ids, mut recorded) = (
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
            for event in &order {
                event_ids.push(event.event_id.as_deref());
                session_ids.push(sessions.row(&event.session_id)?.id);
                recorded.push(optional_timestamptz(event.recorded_at)?);
                talked.push(event.talked_time.to_string());
                microphone.push(event.microphone_used);
                speaker.push(event.speaker_used);
                sentiment.push(event.voice_sentiment.map(|s| s.to_string()));
            }
            Ok(vec![
                event_ids.into(),
                session_ids.into(),
                recorded.into(),
                talked.into(),
                microphone.into(),
                speaker.into(),
                sentiment.into(),
            ])
        },
        |row| row.get::<String>(1).map_err(Into::into),
    )?;
    Ok(Inserted {
        rows: stored.len(),
        event_ids: stored.into_iter().flatten().collect(),
    })
}
