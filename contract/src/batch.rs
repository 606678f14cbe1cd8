//! What the contract says about a batch of valid events as a whole: which of them
//! are duplicates, which their user cannot take, and what each session's
//! running totals become. Pure logic; storage supplies what is already stored.
//!
//! Everything is per user: a session id or an event id sent by two users names
//! two sessions or two events.

use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};

use crate::event::Event;
use crate::timestamp::Timestamp;

/// The fate of one valid event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Store,
    /// Its user stored its event_id before the call, or an earlier event of the
    /// call did.
    Duplicate,
    /// Refused for its user, whatever its contents: the e-mail's user key belongs
    /// to another e-mail, or the user was erased (storage says which).
    Refused,
}

/// Decides each event's fate, in batch order.
///
/// - `stored_before(email, event_id)`: whether that user stored that event_id
///   before this call;
/// - `refused(event)`: whether the event's user cannot take it. A refused event is
///   refused even if its event_id is repeated, in the batch or from before.
pub fn classify<'e>(
    events: &'e [Event<'_>],
    stored_before: impl Fn(&str, &str) -> bool,
    refused: impl Fn(&Event<'_>) -> bool,
) -> Vec<Fate> {
    let mut stored_ids: HashSet<(&'e str, &'e str)> = HashSet::new();
    events
        .iter()
        .map(|event| {
            let email = event.email.as_ref();
            let id = event.event_id.as_deref();
            if refused(event) {
                Fate::Refused
            } else if id.is_some_and(|id| {
                // Stored before the call, or earlier in it.
                stored_before(email, id) || !stored_ids.insert((email, id))
            }) {
                Fate::Duplicate
            } else {
                Fate::Store
            }
        })
        .collect()
}

/// A session as the contract knows it: the user's e-mail and the client's
/// session id.
pub type SessionKey<'e> = (&'e str, &'e str);

/// What a set of events adds to one session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTotals<'e> {
    /// The user of the session's events.
    pub email: &'e str,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// The first device reported, as JSON text.
    pub device: Option<&'e str>,
    pub event_count: i64,
    pub talked_time: Decimal,
    /// True if any event said true, false if events said only false, None if none said.
    pub microphone_used: Option<bool>,
    pub speaker_used: Option<bool>,
    /// Exact: the same events give the same digits in any order.
    pub sentiment_sum: Decimal,
    pub sentiment_count: i64,
}

impl<'e> SessionTotals<'e> {
    fn of(event: &'e Event<'_>) -> SessionTotals<'e> {
        SessionTotals {
            email: &event.email,
            started_at: event.started_at,
            ended_at: event.ended_at,
            device: event.device.as_deref(),
            event_count: 1,
            talked_time: event.talked_time,
            microphone_used: event.microphone_used,
            speaker_used: event.speaker_used,
            sentiment_sum: event.voice_sentiment.unwrap_or_default(),
            sentiment_count: i64::from(event.voice_sentiment.is_some()),
        }
    }

    fn add(&mut self, event: &'e Event<'_>) {
        self.started_at = self.started_at.min(event.started_at);
        self.ended_at = self.ended_at.max(event.ended_at);
        self.device = self.device.or(event.device.as_deref());
        self.event_count += 1;
        self.talked_time += event.talked_time;
        self.microphone_used = any_true(self.microphone_used, event.microphone_used);
        self.speaker_used = any_true(self.speaker_used, event.speaker_used);
        if let Some(sentiment) = event.voice_sentiment {
            self.sentiment_sum += sentiment;
            self.sentiment_count += 1;
        }
    }
}

fn any_true(total: Option<bool>, event: Option<bool>) -> Option<bool> {
    match (total, event) {
        (Some(a), Some(b)) => Some(a || b),
        (a, b) => a.or(b),
    }
}

/// The totals of the events whose fate is `Store`, per session (sorted by e-mail,
/// then session id), adding events in batch order so that "first device" means
/// first sent.
pub fn session_totals<'e>(
    events: &'e [Event<'_>],
    stores: impl Fn(usize) -> bool,
) -> BTreeMap<SessionKey<'e>, SessionTotals<'e>> {
    let mut totals: BTreeMap<SessionKey<'e>, SessionTotals<'e>> = BTreeMap::new();
    for (position, event) in events.iter().enumerate() {
        if !stores(position) {
            continue;
        }
        totals
            .entry((event.email.as_ref(), event.session_id.as_ref()))
            .and_modify(|t| t.add(event))
            .or_insert_with(|| SessionTotals::of(event));
    }
    totals
}
