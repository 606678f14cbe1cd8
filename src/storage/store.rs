//! Storing a batch of valid events: users, sessions, events and running totals.
//!
//! The steps, each one statement over arrays whatever the batch size:
//! 1. find the event_ids already stored (repeats take no part in anything);
//! 2. find or create the users;
//! 3. create the new sessions, each with the totals of its events in the batch, and
//!    lock the existing ones;
//! 4. insert the events that are neither repeats nor conflicts;
//! 5. add to the existing sessions' totals, and correct the new ones where step 4
//!    stored other events than step 3 assumed;
//! 6. remove what was created only for events that were not stored, and rename
//!    users.
//!
//! Concurrency: locks are taken in one order per table (users by e-mail, sessions
//! by session id, events by event_id, renamed users by id) and tables in one order,
//! so concurrent calls on the same users and sessions wait for each other but never
//! deadlock. Every event stored for a session is stored by a call that holds the
//! session's row lock, so its totals are exact. A call is stored whole or not at
//! all, in the caller's transaction.

use std::collections::BTreeMap;
use user_metrics_contract::{classify, session_totals, Event, Fate, RejectCode, Rejection};

use super::counters::Counts;
use super::rows::count;
use super::{events, sessions, users};
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

/// Stores `events` (in batch order; `indexes` gives each one's index in the
/// payload) and returns each one's outcome, in the same order, with the rows the
/// call added. With `stop_at_conflict`, the first session_user_conflict is
/// returned as an error before any event is written.
pub fn store_events(
    events: &[Event],
    indexes: &[usize],
    stop_at_conflict: bool,
) -> Result<(Vec<Outcome>, Counts)> {
    let stored_before = events::stored_before(events)?;
    let is_repeat = |id: &str| stored_before.contains(id);
    let candidates: Vec<&Event> = events
        .iter()
        .filter(|e| !e.event_id.as_deref().is_some_and(is_repeat))
        .collect();
    if candidates.is_empty() {
        return Ok((vec![Outcome::Duplicate; events.len()], Counts::default()));
    }

    let users = users::find_or_create(candidates.iter().map(|e| e.email.as_ref()).collect())?;

    // What the batch adds to each session if every session were new.
    let assumed_fates = classify(events, is_repeat, |_| None);
    let assumed = session_totals(events, |p| assumed_fates[p] == Fate::Store);
    let mut first_events: BTreeMap<&str, &Event> = BTreeMap::new();
    for event in &candidates {
        first_events
            .entry(event.session_id.as_ref())
            .or_insert(event);
    }
    let sessions = sessions::create_or_lock(&first_events, &assumed, &users)?;

    // The verdicts, now that every session's owner is known.
    let fates = classify(events, is_repeat, |s| sessions.owner_of(s));
    let conflict = |event: &Event| {
        Rejection::new(
            RejectCode::SessionUserConflict,
            "session.id",
            format!("session {:?} belongs to another user", event.session_id),
        )
    };
    if stop_at_conflict {
        if let Some(p) = fates.iter().position(|f| *f == Fate::Conflict) {
            return Err(Error::InvalidEvent {
                index: indexes[p],
                rejection: conflict(&events[p]),
            });
        }
    }
    let to_store: Vec<&Event> = events
        .iter()
        .zip(&fates)
        .filter(|(_, f)| **f == Fate::Store)
        .map(|(e, _)| e)
        .collect();
    let inserted = events::insert(&to_store, &sessions)?;

    let outcomes: Vec<Outcome> = events
        .iter()
        .zip(&fates)
        .map(|(event, fate)| match fate {
            Fate::Conflict => Outcome::Conflict(conflict(event)),
            Fate::Duplicate => Outcome::Duplicate,
            Fate::Store => match &event.event_id {
                Some(id) if !inserted.event_ids.contains(id.as_ref()) => Outcome::Duplicate,
                _ => Outcome::Stored,
            },
        })
        .collect();
    let is_stored = |p: usize| outcomes[p] == Outcome::Stored;
    let stored: Vec<&Event> = (0..events.len())
        .filter(|&p| is_stored(p))
        .map(|p| &events[p])
        .collect();

    let sessions_added = sessions::settle(&sessions, &assumed, &session_totals(events, is_stored))?;
    let users_added = users::remove_unused(&users, &stored)?;
    users::rename(&users, &stored)?;
    let counts = Counts {
        users: users_added,
        sessions: sessions_added,
        events: count(inserted.rows)?,
        rejected: 0,
    };
    Ok((outcomes, counts))
}
