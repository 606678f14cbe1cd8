//! A call of one valid event on a server that runs Citus: stored by single-row
//! statements that Citus routes, as they are, to the one shard of the event's user
//! (`sql/queries/one_user_*.sql`), with the call's counters and statistics changed
//! in place on the coordinator after them (`ingest_stats::record_one_event_in_place`,
//! no statement: they are local tables there).
//!
//! The general path's statements over arrays are planned with their values on
//! Citus and write through intermediate result files, and its sessions part is
//! read by the statement's later parts, so Citus sends it to every worker: a call
//! of one event committed by two-phase commit on all of them. These statements
//! each go to one shard in one round trip, and the call commits on one worker in
//! one phase.
//!
//! Like `store_one`, it stores only what it can store exactly as the general path
//! would, and declines the rest, having written nothing (or removed what it
//! wrote): an erased user, a key that another e-mail holds, a new name for the
//! user, a user or session that a concurrent call created first. Its locks come
//! in the general path's order (the new user's key, the session, the event's
//! unique-index entry, the session's totals, this backend's counters), so the two
//! never deadlock.

use std::time::Instant;

use pgrx::datum::DatumWithOid;
use user_metrics_contract::{user_key, Event};

use super::counters::Counts;
use super::ingest_stats;
use super::sessions::totals_of_one;
use super::store_one::{remove_created, OneEvent};
use super::verdicts::Outcome;
use crate::error::{Error, Result};
use crate::sql::*;

result_row! {
    /// What is stored of the event's user: see one_user_find.sql.
    pub struct StoredUser {
        email: String,
        name: Option<String>,
        session_id: Option<i64>,
        repeat: bool,
    }
}

/// Stores `event`, the call's only one, which started at `started`.
pub fn store_one_routed(event: &Event, started: Instant) -> Result<OneEvent> {
    let key = user_key(&event.email);
    let erased = read(
        &ONE_USER_ERASED,
        || Ok(vec![key.into()]),
        |row| column::<bool>(&row, "erased"),
    )?;
    if erased.first() != Some(&false) {
        return Ok(OneEvent::Declined);
    }

    // It locks the user's session, if stored.
    let found = write(
        &ONE_USER_FIND,
        || {
            Ok(vec![
                key.into(),
                event.session_id.as_ref().into(),
                event.event_id.as_deref().into(),
            ])
        },
        StoredUser::read,
    )?;
    let (created_user, known_session) = match found.into_iter().next() {
        Some(user) => {
            let other_name = event.name.is_some() && user.name.as_deref() != event.name.as_deref();
            if user.email != event.email || other_name {
                return Ok(OneEvent::Declined);
            }
            if user.repeat {
                ingest_stats::record_one_event_in_place(
                    Counts::default(),
                    false,
                    started.elapsed(),
                )?;
                return Ok(OneEvent::Recorded(Outcome::Duplicate));
            }
            (false, user.session_id)
        }
        None => {
            let created = write(
                &ONE_USER_ADD_USER,
                || {
                    Ok(vec![
                        key.into(),
                        event.email.as_ref().into(),
                        event.name.as_deref().into(),
                    ])
                },
                ignore,
            )?;
            if created.is_empty() {
                // A concurrent call created the user first; nothing is written.
                return Ok(OneEvent::Declined);
            }
            (true, None)
        }
    };

    let totals = totals_of_one(event)?;
    let with_totals = |first: DatumWithOid<'static>, second: DatumWithOid<'static>| -> Args {
        vec![
            first,
            second,
            totals.started_at.into(),
            totals.ended_at.into(),
            totals.device.into(),
            totals.event_count.into(),
            totals.talked_time.as_str().into(),
            totals.microphone_used.into(),
            totals.speaker_used.into(),
            totals.sentiment_sum.as_str().into(),
            totals.sentiment_count.into(),
        ]
    };

    let session = match known_session {
        Some(id) => id,
        None => {
            let created = write(
                &ONE_USER_ADD_SESSION,
                || Ok(with_totals(key.into(), event.session_id.as_ref().into())),
                |row| column::<i64>(&row, "id"),
            )?;
            match created.first() {
                Some(&id) => id,
                None => {
                    // A concurrent call created the session first.
                    remove_created(key, None, created_user)?;
                    return Ok(OneEvent::Declined);
                }
            }
        }
    };
    let created_session = known_session.is_none();

    let stored = write(
        &ONE_USER_ADD_EVENT,
        || {
            Ok(vec![
                key.into(),
                event.event_id.as_deref().into(),
                session.into(),
                optional_timestamptz(event.recorded_at)?.into(),
                event.talked_time.to_string().into(),
                event.microphone_used.into(),
                event.speaker_used.into(),
                event.voice_sentiment.map(|s| s.to_string()).into(),
            ])
        },
        ignore,
    )?;
    if stored.is_empty() {
        // A concurrent call stored this event_id after the first look.
        remove_created(key, created_session.then_some(session), created_user)?;
        return Ok(OneEvent::RacedRepeat);
    }
    if !created_session {
        let added = write(
            &ONE_USER_ADD_TOTALS,
            || Ok(with_totals(key.into(), session.into())),
            ignore,
        )?;
        if added.len() != 1 {
            // The session is locked, so it cannot have gone.
            return Err(Error::Internal(
                "an event was stored without adding it to its session".into(),
            ));
        }
    }
    let counts = Counts::of_stored_event(created_user, created_session);
    ingest_stats::record_one_event_in_place(counts, true, started.elapsed())?;
    Ok(OneEvent::Recorded(Outcome::Stored))
}
