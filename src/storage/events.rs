//! The event rows themselves, as the store statement takes them.

use super::key_hash::HashMap;
use pgrx::datum::TimestampWithTimeZone;
use user_metrics_contract::{Event, SessionKey};

use super::keys::Keys;
use crate::error::Result;
use crate::sql::*;

parameter_rows! {
    /// An event row as the store statement takes it: `session_id` is the session's
    /// row id when it has one before the statement runs, NULL for a session the
    /// statement creates (found by `client_session_id`).
    pub struct EventRow<'e> {
        user_key: i64,
        event_id: Option<&'e str>,
        session_id: Option<i64>,
        client_session_id: &'e str,
        recorded_at: Option<TimestampWithTimeZone>,
        /// Exact decimals, as text that the statement casts to numeric.
        talked_time: String,
        microphone_used: Option<bool>,
        speaker_used: Option<bool>,
        voice_sentiment: Option<String>,
    }
}

/// The events to store, sorted by user key and event_id, so that concurrent calls
/// wait for each other's unique-index entries in one order.
pub fn in_lock_order<'e>(
    to_store: &[&'e Event<'e>],
    keys: &Keys,
) -> Result<Vec<(i64, &'e Event<'e>)>> {
    let mut order: Vec<(i64, &Event)> = Vec::with_capacity(to_store.len());
    for event in to_store {
        order.push((keys.of_email(&event.email)?, event));
    }
    order.sort_by(|a, b| (a.0, &a.1.event_id).cmp(&(b.0, &b.1.event_id)));
    Ok(order)
}

/// The statement's arguments for `ordered` events, each with its session's row id
/// where it has one.
pub fn args(
    ordered: &[(i64, &Event<'_>)],
    session_ids: &HashMap<SessionKey<'_>, Option<i64>>,
) -> Result<Args> {
    let mut rows = Vec::with_capacity(ordered.len());
    for &(user_key, event) in ordered {
        rows.push(EventRow {
            user_key,
            event_id: event.event_id.as_deref(),
            session_id: session_ids
                .get(&(event.email.as_ref(), event.session_id.as_ref()))
                .copied()
                .flatten(),
            client_session_id: &event.session_id,
            recorded_at: optional_timestamptz(event.recorded_at)?,
            talked_time: event.talked_time.to_string(),
            microphone_used: event.microphone_used,
            speaker_used: event.speaker_used,
            voice_sentiment: event.voice_sentiment.map(|s| s.to_string()),
        });
    }
    Ok(EventRow::into_args(rows))
}
