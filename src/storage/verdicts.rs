//! What becomes of each valid event of a batch, decided before any of it is
//! written: stored, a repeat of an event its user stored before, or refused for
//! its user (erased with forget_user, or its e-mail's key held by another e-mail).
//! The contract's `classify` decides; this supplies what is already stored.

use std::collections::HashSet;
use user_metrics_contract::{classify, Event, Fate, RejectCode, Rejection};

use super::events::{Inserted, StoredId};
use super::forgotten::{self, Erased};
use super::keys::Keys;
use super::users::{self, Users};
use crate::error::{Error, Result};

/// What became of one valid event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stored,
    /// Its user stored its event_id before, in an earlier call or earlier in this one.
    Duplicate,
    /// Its e-mail's user key belongs to another e-mail.
    Conflict(Rejection),
    /// Its user was erased after its session started: dropped, kept nowhere.
    Forgotten,
}

/// A batch judged: its users found or created, and each event's fate.
pub struct Verdicts<'e> {
    pub events: &'e [Event<'e>],
    pub keys: Keys<'e>,
    erased: Erased,
    pub users: Users,
    /// Per event, in batch order.
    pub fates: Vec<Fate>,
}

/// Whether every event of the batch repeats an event_id its user stored before the
/// call: then nothing is to be written at all.
pub fn all_repeats(events: &[Event], keys: &Keys, stored_before: &HashSet<StoredId>) -> bool {
    events.iter().all(|event| {
        event
            .event_id
            .as_deref()
            .is_some_and(|id| is_repeat(keys, stored_before, &event.email, id))
    })
}

fn is_repeat(keys: &Keys, stored_before: &HashSet<StoredId>, email: &str, id: &str) -> bool {
    keys.of_email(email)
        .is_ok_and(|key| stored_before.contains(&(key, id.to_string())))
}

impl<'e> Verdicts<'e> {
    /// Finds the erased users of the batch and finds or creates the others (never
    /// writing a user row, even for a moment, for a user all of whose events are
    /// erased ones), then gives every event its fate.
    pub fn judge(
        events: &'e [Event<'e>],
        keys: Keys<'e>,
        stored_before: &HashSet<StoredId>,
    ) -> Result<Verdicts<'e>> {
        let erased = forgotten::erased(&keys)?;
        let live_emails: HashSet<&str> = events
            .iter()
            .filter(|event| !is_erased(&keys, &erased, event))
            .map(|event| event.email.as_ref())
            .collect();
        let users = users::find_or_create(&keys.only(|email| live_emails.contains(email)))?;
        // Every user is known now, and sessions take no part in the verdicts.
        let fates = classify(
            events,
            |email, id| is_repeat(&keys, stored_before, email, id),
            |event| is_erased(&keys, &erased, event) || users.collides(&event.email),
        );
        Ok(Verdicts {
            events,
            keys,
            erased,
            users,
            fates,
        })
    }

    /// The events to store, in batch order.
    pub fn to_store(&self) -> Vec<&'e Event<'e>> {
        self.events
            .iter()
            .zip(&self.fates)
            .filter(|(_, fate)| **fate == Fate::Store)
            .map(|(event, _)| event)
            .collect()
    }

    /// With `on_error => 'raise'`: the first refused event, as the error that ends
    /// the call before anything is written. `indexes` gives each event's index in
    /// the payload. An erased user's old event is dropped, not refused.
    pub fn first_refusal(&self, indexes: &[usize]) -> Option<Error> {
        self.fates
            .iter()
            .zip(self.events)
            .zip(indexes)
            .filter(|((fate, _), _)| **fate == Fate::Refused)
            .find_map(|((_, event), &index)| match self.refusal(event) {
                Outcome::Conflict(rejection) => Some(Error::InvalidEvent { index, rejection }),
                _ => None,
            })
    }

    /// Each event's outcome, once the insert has said which were stored: an event
    /// meant to be stored whose (user, event_id) a concurrent call stored first is
    /// a duplicate.
    pub fn outcomes(&self, inserted: &Inserted) -> Result<Vec<Outcome>> {
        let mut outcomes = Vec::with_capacity(self.events.len());
        for (event, fate) in self.events.iter().zip(&self.fates) {
            outcomes.push(match fate {
                Fate::Refused => self.refusal(event),
                Fate::Duplicate => Outcome::Duplicate,
                Fate::Store => match &event.event_id {
                    Some(id) => {
                        let key = self.keys.of_email(&event.email)?;
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

    /// Why a refused event is refused.
    fn refusal(&self, event: &Event) -> Outcome {
        if is_erased(&self.keys, &self.erased, event) {
            Outcome::Forgotten
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
    }
}

/// Whether the event belongs to what forget_user erased.
fn is_erased(keys: &Keys, erased: &Erased, event: &Event) -> bool {
    keys.of_email(&event.email)
        .is_ok_and(|key| erased.covers(key, event.started_at.unix_micros))
}
