//! Storing a batch of valid events: users, sessions, events and running totals.
//!
//! The steps, each one statement over arrays whatever the batch size, and each
//! naming the batch's user keys so that it touches only their rows (on Citus,
//! only their shards):
//! 1. find the (user, event_id) pairs already stored (repeats take no part in
//!    anything);
//! 2. set aside the events of erased users (forget_user) that belong to what was
//!    erased; find or create the other users, and set aside the e-mails whose key
//!    another e-mail holds (`verdicts`);
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
use user_metrics_contract::{session_totals, Event, Fate, SessionKey};

use super::counters::Counts;
use super::events::{self, Inserted};
use super::keys::Keys;
use super::verdicts::{all_repeats, Outcome, Verdicts};
use super::{sessions, users};
use crate::error::Result;
use crate::sql::count;

/// Stores `events` (in batch order; `indexes` gives each one's index in the
/// payload) and returns each one's outcome, in the same order, with the rows the
/// call added. With `stop_at_conflict`, the first refused event (user_key_collision)
/// is returned as an error before any event is written.
pub fn store_events(
    events: &[Event],
    indexes: &[usize],
    stop_at_conflict: bool,
) -> Result<(Vec<Outcome>, Counts)> {
    let keys = Keys::of(events);
    let stored_before = events::stored_before(events, &keys)?;
    if all_repeats(events, &keys, &stored_before) {
        return Ok((vec![Outcome::Duplicate; events.len()], Counts::default()));
    }
    let verdicts = Verdicts::judge(events, keys, &stored_before)?;
    if stop_at_conflict {
        if let Some(error) = verdicts.first_refusal(indexes) {
            return Err(error);
        }
    }
    let (outcomes, sessions_added, events_added) = store_sessions_and_events(&verdicts)?;
    let stored: Vec<&Event> = events
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome == Outcome::Stored)
        .map(|(event, _)| event)
        .collect();
    let users_added = users::remove_unused(&verdicts.users, &verdicts.keys, &stored)?;
    users::rename(&verdicts.users, &verdicts.keys, &stored)?;
    let counts = Counts {
        users: users_added,
        sessions: sessions_added,
        events: count(events_added)?,
        rejected: 0,
    };
    Ok((outcomes, counts))
}

/// Steps 3 to 5: the sessions and the events. Returns each event's outcome, and how
/// many sessions and events the call added.
fn store_sessions_and_events(verdicts: &Verdicts) -> Result<(Vec<Outcome>, i64, usize)> {
    let to_store = verdicts.to_store();
    if to_store.is_empty() {
        return Ok((verdicts.outcomes(&Inserted::default())?, 0, 0));
    }
    let events = verdicts.events;
    // What the batch adds to each session if every session were new.
    let assumed = session_totals(events, |p| verdicts.fates[p] == Fate::Store);
    let sessions = sessions::create_or_lock(&first_events(&to_store), &assumed, &verdicts.keys)?;
    let inserted = events::insert(&to_store, &verdicts.keys, &sessions)?;
    let outcomes = verdicts.outcomes(&inserted)?;
    let stored = session_totals(events, |p| outcomes[p] == Outcome::Stored);
    let sessions_added = sessions::settle(&sessions, &assumed, &stored)?;
    Ok((outcomes, sessions_added, inserted.rows))
}

/// Per session, the first of its events to store.
fn first_events<'e>(to_store: &[&'e Event<'e>]) -> BTreeMap<SessionKey<'e>, &'e Event<'e>> {
    let mut first = BTreeMap::new();
    for event in to_store {
        first
            .entry((event.email.as_ref(), event.session_id.as_ref()))
            .or_insert(*event);
    }
    first
}
