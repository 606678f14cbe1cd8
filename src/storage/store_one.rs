//! A call of one valid event (the shape of a client that sends each event as it
//! happens): stored in one statement, `sql/queries/store_one.sql`, when the event
//! needs nothing that statement does not do, then added to the call's counters
//! and statistics in place (`ingest_stats::record_one_event_in_place`).
//! Otherwise that statement writes nothing and the call takes the general path
//! (`store`), which handles every case; the two take their locks in the same
//! order, so they never deadlock with each other.
//!
//! Not on Citus, which does not send a statement whose WITH parts insert to a
//! shard as it is, and keeps forgotten_users and the counters on the coordinator:
//! there `store_one_routed` stores such a call.

use super::key_hash::HashSet;
use std::time::Instant;
use user_metrics_contract::{user_key, Event};

use super::counters::Counts;
use super::ingest_stats;
use super::sessions::totals_of_one;
use super::users;
use super::verdicts::Outcome;
use crate::error::{Error, Result};
use crate::sql::*;

/// What the one statement did with the call.
#[derive(Debug)]
pub enum OneEvent {
    /// Stored, or a repeat: with the call's counters and statistics.
    Recorded(Outcome),
    /// A repeat of an event that a concurrent call stored after this statement's
    /// snapshot. The session and user the statement created for it, if any, are
    /// removed again; the caller records the call (no rows added, one duplicate).
    RacedRepeat,
    /// Not a case for this statement; nothing was written.
    Declined,
}

result_row! {
    /// The one row of store_one: see the statement.
    pub struct StoreOneRow {
        stored: bool,
        has_session: bool,
        added: bool,
        created_session: Option<i64>,
        created_user: bool,
        recorded: bool,
    }
}

/// Stores `event`, the call's only one, and records the call; `started`: when the
/// call started, for its time in ingest_stats.
pub fn store_one(event: &Event, started: Instant) -> Result<OneEvent> {
    let key = user_key(&event.email);
    let session = totals_of_one(event)?;
    let rows = write_planned_once(
        &STORE_ONE,
        || {
            Ok(vec![
                key.into(),
                event.email.as_ref().into(),
                event.name.as_deref().into(),
                event.session_id.as_ref().into(),
                session.started_at.into(),
                session.ended_at.into(),
                session.device.into(),
                session.event_count.into(),
                session.talked_time.into(),
                session.microphone_used.into(),
                session.speaker_used.into(),
                session.sentiment_sum.into(),
                session.sentiment_count.into(),
                event.event_id.as_deref().into(),
                optional_timestamptz(event.recorded_at)?.into(),
                event.talked_time.to_string().into(),
                event.microphone_used.into(),
                event.speaker_used.into(),
                event.voice_sentiment.map(|s| s.to_string()).into(),
            ])
        },
        StoreOneRow::read,
    )?;
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("store_one returned no row".into()))?;
    if row.stored && row.created_session.is_none() && !row.added {
        // Stored in an existing session whose totals were not added to: the
        // totals would no longer be exact (cannot happen: the session is locked).
        return Err(Error::Internal(
            "store_one stored an event without adding it to its session".into(),
        ));
    }
    if row.recorded {
        let counts = if row.stored {
            Counts::of_stored_event(row.created_user, row.created_session.is_some())
        } else {
            Counts::default()
        };
        ingest_stats::record_one_event_in_place(counts, row.stored, started.elapsed())?;
        return Ok(OneEvent::Recorded(if row.stored {
            Outcome::Stored
        } else {
            Outcome::Duplicate
        }));
    }
    // Not recorded: nothing was stored. Whatever was created for the event goes.
    remove_created(key, row.created_session, row.created_user)?;
    // Not recorded, with its session locked or created: the event's INSERT skipped
    // it, so a concurrent call stored it first. Without a session: a case for the
    // general path.
    if row.has_session {
        Ok(OneEvent::RacedRepeat)
    } else {
        Ok(OneEvent::Declined)
    }
}

/// Removes the session and the user that a call of one event created for an event
/// it did not store, so that it leaves nothing behind.
pub(super) fn remove_created(key: i64, session: Option<i64>, user: bool) -> Result<()> {
    if let Some(id) = session {
        write(
            &DELETE_SESSIONS,
            || Ok(vec![vec![key].into(), vec![id].into()]),
            ignore,
        )?;
    }
    if user {
        users::remove_unused(&[key], &HashSet::default())?;
    }
    Ok(())
}
