//! Storing a batch of valid events: users, sessions, events and running totals.
//!
//! The steps, each one statement over arrays whatever the batch size, and each
//! naming the batch's user keys so that it touches only their rows (on Citus,
//! only their shards):
//! 1. find the (user, event_id) pairs already stored (repeats take no part in
//!    anything);
//! 2. set aside the events of erased users (forget_user) that belong to what was
//!    erased; find or create the other users, and set aside the e-mails whose key
//!    another e-mail holds;
//! 3. create the new sessions, each with the totals of its events in the batch, and
//!    lock the existing ones;
//! 4. insert the events that are not repeats;
//! 5. add to the existing sessions' totals, and correct the new ones where step 4
//!    stored other events than step 3 assumed;
//! 6. remove what was created only for events that were not stored, and rename
//!    users.
//!
//! Concurrency: locks are taken in one order per table (users, sessions and events
//! by user key and then their id) and tables in one order, so concurrent calls on
//! the same users and sessions wait for each other but never deadlock. Every event
//! stored for a session is stored by a call that holds the session's row lock, so
//! its totals are exact. A call is stored whole or not at all, in the caller's
//! transaction.

use std::collections::BTreeMap;
use user_metrics_contract::{classify, session_totals, Event, Fate, RejectCode, Rejection};

use super::counters::Counts;
use super::keys::Keys;
use super::rows::count;
use super::{events, forgotten, sessions, users};
use crate::error::{Error, Result};

/// What became of one valid event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stored,
    /// Its user stored its event_id before, in an earlier call or earlier in this one.
    Duplicate,
    /// Its e-mail's user key belongs to another e-mail.
    Conflict(Rejection),
    /// Its user was erased after its session started: refused, and not kept.
    Forgotten(Rejection),
}

/// Stores `events` (in batch order; `indexes` gives each one's index in the
/// payload) and returns each one's outcome, in the same order, with the rows the
/// call added. With `stop_at_conflict`, the first refused event (user_key_collision
/// or user_forgotten) is returned as an error before any event is written.
pub fn store_events(
    events: &[Event],
    indexes: &[usize],
    stop_at_conflict: bool,
) -> Result<(Vec<Outcome>, Counts)> {
    let keys = Keys::of(events);
    let stored_before = events::stored_before(events, &keys)?;
    let is_repeat = |email: &str, id: &str| {
        keys.of_email(email)
            .is_ok_and(|key| stored_before.contains(&(key, id.to_string())))
    };
    let all_repeats = events.iter().all(|event| {
        event
            .event_id
            .as_deref()
            .is_some_and(|id| is_repeat(&event.email, id))
    });
    if all_repeats {
        return Ok((vec![Outcome::Duplicate; events.len()], Counts::default()));
    }
    let erased = forgotten::erased(&keys)?;
    let is_erased = |event: &Event| {
        keys.of_email(&event.email)
            .is_ok_and(|key| erased.covers(key, event.started_at.unix_micros))
    };
    // No user row is written, even for a moment, for a user all of whose events
    // are erased ones.
    let live_emails: std::collections::HashSet<&str> = events
        .iter()
        .filter(|event| !is_erased(event))
        .map(|event| event.email.as_ref())
        .collect();
    let users = users::find_or_create(&keys.only(|email| live_emails.contains(email)))?;

    // The verdicts: every user is known now, and sessions take no part in them.
    let fates = classify(events, is_repeat, |event| {
        is_erased(event) || users.collides(&event.email)
    });
    let refusal = |event: &Event| {
        if is_erased(event) {
            Outcome::Forgotten(Rejection::new(
                RejectCode::UserForgotten,
                "user.email",
                "this user was erased with forget_user() after the session started",
            ))
        } else {
            Outcome::Conflict(Rejection::new(
                RejectCode::UserKeyCollision,
                "user.email",
                format!(
                    "the user key of {:?} belongs to another e-mail address",
                    event.email
                ),
            ))
        }
    };
    if stop_at_conflict {
        if let Some(p) = fates.iter().position(|f| *f == Fate::Refused) {
            if let Outcome::Conflict(rejection) | Outcome::Forgotten(rejection) =
                refusal(&events[p])
            {
                return Err(Error::InvalidEvent {
                    index: indexes[p],
                    rejection,
                });
            }
        }
    }
    let to_store: Vec<&Event> = events
        .iter()
        .zip(&fates)
        .filter(|(_, f)| **f == Fate::Store)
        .map(|(e, _)| e)
        .collect();

    let (outcomes, sessions_added, events_added) = if to_store.is_empty() {
        let nothing = events::Inserted {
            ids: Default::default(),
            rows: 0,
        };
        (outcomes_of(events, &fates, &keys, &nothing, refusal)?, 0, 0)
    } else {
        // What the batch adds to each session if every session were new.
        let assumed = session_totals(events, |p| fates[p] == Fate::Store);
        let mut first_events = BTreeMap::new();
        for event in &to_store {
            first_events
                .entry((event.email.as_ref(), event.session_id.as_ref()))
                .or_insert(*event);
        }
        let sessions = sessions::create_or_lock(&first_events, &assumed, &keys)?;
        let inserted = events::insert(&to_store, &keys, &sessions)?;
        let outcomes = outcomes_of(events, &fates, &keys, &inserted, refusal)?;
        let is_stored = |p: usize| outcomes[p] == Outcome::Stored;
        let added = sessions::settle(&sessions, &assumed, &session_totals(events, is_stored))?;
        (outcomes, added, inserted.rows)
    };
    let stored: Vec<&Event> = (0..events.len())
        .filter(|&p| outcomes[p] == Outcome::Stored)
        .map(|p| &events[p])
        .collect();
    let users_added = users::remove_unused(&users, &keys, &stored)?;
    users::rename(&users, &keys, &stored)?;
    let counts = Counts {
        users: users_added,
        sessions: sessions_added,
        events: count(events_added)?,
        rejected: 0,
    };
    Ok((outcomes, counts))
}

/// Each event's outcome, once the insert has said which were stored: an event
/// meant to be stored whose (user, event_id) a concurrent call stored first is a
/// duplicate.
fn outcomes_of(
    events: &[Event],
    fates: &[Fate],
    keys: &Keys,
    inserted: &events::Inserted,
    refusal: impl Fn(&Event) -> Outcome,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(events.len());
    for (event, fate) in events.iter().zip(fates) {
        outcomes.push(match fate {
            Fate::Refused => refusal(event),
            Fate::Duplicate => Outcome::Duplicate,
            Fate::Store => match &event.event_id {
                Some(id) => {
                    let key = keys.of_email(&event.email)?;
                    if inserted.ids.contains(&(key, id.to_string())) {
                        Outcome::Stored
                    } else {
                        Outcome::Duplicate
                    }
                }
                None => Outcome::Stored,
            },
        });
    }
    Ok(outcomes)
}
