//! A call of one valid event, the shape of a client that sends each event as it
//! happens, with its rows read and written without a statement
//! (`sql::with_writes`): the user and its erasure looked up, a repeat looked
//! for, the user created if new, the session locked or created, the event
//! inserted unless the user sent its event_id before, and an existing session's
//! totals added to. That is what `store_one`'s statement does, in the same
//! order of locks (the new user's key, the session, the event's key, the
//! totals), without the statement's setting up, which costs more than these few
//! rows (README, Performance, change 13).
//!
//! Declined before anything is written, for `store_one` to take: an erased user,
//! a key that another e-mail holds, a new name for a user, a user that a
//! concurrent call is creating, an isolation level other than READ COMMITTED, a
//! table with a DBA's trigger.

use pgrx::datum::{AnyNumeric, FromDatum, IntoDatum};
use pgrx::pg_sys;
use std::ffi::CString;
use std::time::Instant;
use user_metrics_contract::{user_key, Decimal, Event, SessionTotals};

use super::counters::Counts;
use super::ingest_stats;
use super::sessions::one_session;
use super::store_one::{remove_created, OneEvent};
use super::verdicts::Outcome;
use crate::error::{Error, Result};
use crate::sql::{timestamptz, with_writes, Tuple, Writes};

/// The tables written, in the order given to `with_writes`.
const USERS: usize = 0;
const SESSIONS: usize = 1;
const EVENTS: usize = 2;

/// What the writes did.
struct Written {
    outcome: OneEvent,
    created_user: bool,
    /// The row id of the session created for the event.
    created_session: Option<i64>,
}

/// Stores `event`, the call's only one, and records the call; None, having
/// written nothing, when it is not a case for this. `started`: when the call
/// started.
pub fn store_one_in_place(event: &Event, started: Instant) -> Result<Option<OneEvent>> {
    let totals = one_session(event)?;
    let written = with_writes(
        c"user_metrics",
        &[c"users", c"sessions", c"events"],
        |writes| write(writes, event, &totals),
    )?;
    let Some(written) = written else {
        return Ok(None);
    };
    match written.outcome {
        OneEvent::Recorded(Outcome::Stored) => ingest_stats::record_one_event_in_place(
            Counts::of_stored_event(written.created_user, written.created_session.is_some()),
            true,
            started.elapsed(),
        )?,
        OneEvent::Recorded(_) => {
            ingest_stats::record_one_event_in_place(Counts::default(), false, started.elapsed())?
        }
        // Stored by a concurrent call first: what was created for it goes, and the
        // caller records the repeat.
        _ => remove_created(
            user_key(&event.email),
            written.created_session,
            written.created_user,
        )?,
    }
    Ok(Some(written.outcome))
}

fn write(writes: &mut Writes, event: &Event, totals: &SessionTotals) -> Result<Option<Written>> {
    let key = datum(user_key(&event.email));
    let email = datum(event.email.as_ref());
    let name = event.name.as_deref().map(datum);
    let user = writes.find(c"users", c"users_pkey", &[key])?;
    if let Some(user) = &user {
        if text(user, "email")?.as_deref() != Some(event.email.as_ref()) {
            return Ok(None);
        }
        if name.is_some() && text(user, "name")?.as_deref() != event.name.as_deref() {
            return Ok(None);
        }
    }
    if writes
        .find(c"forgotten_users", c"forgotten_users_key_idx", &[key])?
        .is_some()
    {
        return Ok(None);
    }
    let event_id = event.event_id.as_deref().map(datum);
    if let Some(id) = event_id {
        if writes
            .find(c"events", c"events_event_id_key", &[key, id])?
            .is_some()
        {
            return Ok(Some(Written {
                outcome: OneEvent::Recorded(Outcome::Duplicate),
                created_user: false,
                created_session: None,
            }));
        }
    }
    let created_user = user.is_none();
    if created_user {
        let values = [
            ("user_key", Some(key)),
            ("email", Some(email)),
            ("name", name),
        ];
        if writes.insert(USERS, &values, c"users_pkey")?.is_none() {
            // Created by a concurrent call meanwhile: a case for the statement.
            return Ok(None);
        }
    }
    let (session, created_session) = session(writes, key, event, totals)?;
    let recorded_at = match event.recorded_at {
        Some(at) => datum(timestamptz(at)?),
        // SAFETY: the start of the current transaction, what now() returns.
        None => pg_sys::Datum::from(unsafe { pg_sys::GetCurrentTransactionStartTimestamp() }),
    };
    let stored = writes.insert(
        EVENTS,
        &[
            ("user_key", Some(key)),
            ("event_id", event_id),
            ("session_id", session.get("id")?),
            ("recorded_at", Some(recorded_at)),
            ("talked_time", Some(numeric(event.talked_time)?)),
            ("microphone_used", event.microphone_used.map(datum)),
            ("speaker_used", event.speaker_used.map(datum)),
            (
                "voice_sentiment",
                event.voice_sentiment.map(numeric).transpose()?,
            ),
        ],
        c"events_event_id_key",
    )?;
    let created_session = match created_session {
        // A bigint column's Datum holds the value itself.
        true => session.get("id")?.map(|id| id.value() as i64),
        false => None,
    };
    if stored.is_none() {
        // A concurrent call stored the same event_id after the look for a repeat.
        return Ok(Some(Written {
            outcome: OneEvent::RacedRepeat,
            created_user,
            created_session,
        }));
    }
    if created_session.is_none() {
        writes.update(SESSIONS, &session, |old, new| add_totals(old, new, totals))?;
    }
    Ok(Some(Written {
        outcome: OneEvent::Recorded(Outcome::Stored),
        created_user,
        created_session,
    }))
}

/// The event's session, locked, or created with the event's totals (then true).
fn session(
    writes: &mut Writes,
    key: pg_sys::Datum,
    event: &Event,
    totals: &SessionTotals,
) -> Result<(Tuple, bool)> {
    let session_id = datum(event.session_id.as_ref());
    // A session that a concurrent call creates between the look and the insert is
    // there (committed) when the insert gives up: look again.
    for _ in 0..3 {
        let found = writes.lock(
            SESSIONS,
            c"sessions_client_session_id_key",
            &[key, session_id],
        )?;
        if let Some(found) = found {
            return Ok((found, false));
        }
        let values = [
            ("user_key", Some(key)),
            ("client_session_id", Some(session_id)),
            ("started_at", Some(datum(timestamptz(totals.started_at)?))),
            (
                "ended_at",
                totals.ended_at.map(timestamptz).transpose()?.map(datum),
            ),
            ("device", totals.device.map(jsonb).transpose()?),
            ("event_count", Some(datum(totals.event_count))),
            ("talked_time", Some(numeric(totals.talked_time)?)),
            ("microphone_used", totals.microphone_used.map(datum)),
            ("speaker_used", totals.speaker_used.map(datum)),
            ("sentiment_sum", Some(numeric(totals.sentiment_sum)?)),
            ("sentiment_count", Some(datum(totals.sentiment_count))),
        ];
        if let Some(created) =
            writes.insert(SESSIONS, &values, c"sessions_client_session_id_key")?
        {
            return Ok((created, true));
        }
    }
    Err(Error::Internal(
        "the event's session was neither found nor created".into(),
    ))
}

/// The session's totals with `totals` (one event's) added: the arithmetic of
/// `store_one.sql`'s `added`.
fn add_totals(old: &Tuple, new: &mut Tuple, totals: &SessionTotals) -> Result<()> {
    let started_at = timestamp(old, "started_at")?
        .into_iter()
        .chain([timestamptz(totals.started_at)?.into_inner()])
        .min();
    new.set("started_at", started_at.map(pg_sys::Datum::from))?;
    let ended = match totals.ended_at {
        Some(at) => Some(timestamptz(at)?.into_inner()),
        None => None,
    };
    let ended_at = timestamp(old, "ended_at")?.into_iter().chain(ended).max();
    new.set("ended_at", ended_at.map(pg_sys::Datum::from))?;
    if old.get("device")?.is_none() {
        if let Some(device) = totals.device {
            new.set("device", Some(jsonb(device)?))?;
        }
    }
    add_bigint(old, new, "event_count", totals.event_count)?;
    add_numeric(old, new, "talked_time", totals.talked_time)?;
    or_boolean(old, new, "microphone_used", totals.microphone_used)?;
    or_boolean(old, new, "speaker_used", totals.speaker_used)?;
    add_numeric(old, new, "sentiment_sum", totals.sentiment_sum)?;
    add_bigint(old, new, "sentiment_count", totals.sentiment_count)
}

fn add_bigint(old: &Tuple, new: &mut Tuple, column: &str, value: i64) -> Result<()> {
    // SAFETY: a bigint column's Datum.
    let current = unsafe { i64::from_datum(required(old, column)?, false) }.unwrap_or(0);
    let sum = current
        .checked_add(value)
        .ok_or_else(|| Error::Internal(format!("session {column} overflows bigint")))?;
    new.set(column, Some(datum(sum)))
}

fn add_numeric(old: &Tuple, new: &mut Tuple, column: &str, value: Decimal) -> Result<()> {
    // SAFETY: a numeric column's Datum.
    let current = unsafe { AnyNumeric::from_datum(required(old, column)?, false) }
        .ok_or_else(|| Error::Internal(format!("session {column} unreadable")))?;
    let sum = current + parse_numeric(value)?;
    new.set(column, Some(datum(sum)))
}

/// NULL stays NULL when the event says nothing; otherwise true if either says true.
fn or_boolean(old: &Tuple, new: &mut Tuple, column: &str, value: Option<bool>) -> Result<()> {
    if let Some(value) = value {
        // SAFETY: a boolean column's Datum.
        let current = match old.get(column)? {
            Some(d) => unsafe { bool::from_datum(d, false) }.unwrap_or(false),
            None => false,
        };
        new.set(column, Some(datum(current || value)))?;
    }
    Ok(())
}

fn required(row: &Tuple, column: &str) -> Result<pg_sys::Datum> {
    row.get(column)?
        .ok_or_else(|| Error::Internal(format!("session {column} is NULL")))
}

/// A timestamptz column, in PostgreSQL's microseconds since 2000-01-01.
fn timestamp(row: &Tuple, column: &str) -> Result<Option<i64>> {
    Ok(row.get(column)?.map(|d| d.value() as i64))
}

fn text(row: &Tuple, column: &str) -> Result<Option<String>> {
    // SAFETY: a text column's Datum, copied out.
    Ok(row
        .get(column)?
        .and_then(|d| unsafe { String::from_datum(d, false) }))
}

fn datum(value: impl IntoDatum) -> pg_sys::Datum {
    // Only NULL gives None, and no value here is NULL.
    value.into_datum().unwrap_or(pg_sys::Datum::from(0))
}

fn parse_numeric(value: Decimal) -> Result<AnyNumeric> {
    AnyNumeric::try_from(value.to_string().as_str())
        .map_err(|e| Error::Internal(format!("decimal {value} is not a numeric: {e}")))
}

fn numeric(value: Decimal) -> Result<pg_sys::Datum> {
    Ok(datum(parse_numeric(value)?))
}

/// The device's JSON text as jsonb, by jsonb's own input function.
fn jsonb(text: &str) -> Result<pg_sys::Datum> {
    let text = CString::new(text)
        .map_err(|_| Error::Internal("device JSON text holds a NUL byte".into()))?;
    // SAFETY: jsonb's input function with a NUL-terminated string; the result is
    // allocated in the current memory context, the writes'.
    Ok(unsafe {
        pg_sys::OidInputFunctionCall(
            pg_sys::Oid::from(pg_sys::F_JSONB_IN),
            text.as_ptr().cast_mut(),
            pg_sys::JSONBOID,
            -1,
        )
    })
}
