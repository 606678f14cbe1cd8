//! What becomes of each valid event of a batch, decided before any event is
//! written: stored, a repeat of an event its user stored before, dropped (an old
//! event of a user erased with forget_user), or refused (its e-mail's key held by
//! another e-mail).
//! The contract's `classify` decides; the lookup (`lookup`) supplies what is
//! already stored, and `write_users` what the call changes of its users.

use super::key_hash::HashSet;
use std::collections::BTreeMap;
use user_metrics_contract::{classify, Event, Fate, RejectCode, Rejection};

use super::keys::Keys;
use super::lookup::{lookup, Found, StoredUser, Wanted};
use super::users::{self, NewName, NewUser, UserChanges};
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

/// A batch judged: what is stored of it, the users it creates, and each event's
/// fate.
pub struct Verdicts<'e> {
    pub events: &'e [Event<'e>],
    pub keys: Keys<'e>,
    pub found: Found<'e>,
    /// Per user key that is not stored, the e-mail of the batch that creates it:
    /// if two e-mails of the batch share a key, the first in byte order.
    planned: BTreeMap<i64, &'e str>,
    /// The users this call created.
    pub created_users: Vec<i64>,
    /// Per event, in batch order.
    pub fates: Vec<Fate>,
}

impl<'e> Verdicts<'e> {
    /// Gives every event its fate, from what the lookup found; no row is written,
    /// and no user is planned for a user all of whose events are erased ones.
    pub fn judge(events: &'e [Event<'e>], keys: Keys<'e>, found: Found<'e>) -> Verdicts<'e> {
        let mut verdicts = Verdicts {
            events,
            keys,
            found,
            planned: BTreeMap::new(),
            created_users: Vec::new(),
            fates: Vec::new(),
        };
        verdicts.plan_new_users();
        verdicts.classify();
        verdicts
    }

    fn plan_new_users(&mut self) {
        let mut planned: BTreeMap<i64, &'e str> = BTreeMap::new();
        for event in self.events {
            let Ok(key) = self.keys.of_email(&event.email) else {
                continue;
            };
            if self.found.users.contains_key(&key) || self.is_erased(event) {
                continue;
            }
            let owner = planned.entry(key).or_insert(&event.email);
            if event.email.as_ref() < *owner {
                *owner = &event.email;
            }
        }
        self.planned = planned;
    }

    fn classify(&mut self) {
        self.fates = classify(
            self.events,
            |email, id| {
                self.keys
                    .of_email(email)
                    .is_ok_and(|key| self.found.event_ids.contains(&(key, id)))
            },
            |event| self.is_erased(event) || self.collides(event),
        );
    }

    /// Whether the event's e-mail's key belongs (or is to belong) to another e-mail.
    fn collides(&self, event: &Event) -> bool {
        let Ok(key) = self.keys.of_email(&event.email) else {
            return true;
        };
        let owner = match self.found.users.get(&key) {
            Some(user) => Some(user.email.as_str()),
            None => self.planned.get(&key).copied(),
        };
        owner.is_some_and(|owner| owner != event.email)
    }

    /// Whether the event belongs to what forget_user erased.
    fn is_erased(&self, event: &Event) -> bool {
        self.keys.of_email(&event.email).is_ok_and(|key| {
            self.found
                .erased
                .get(&key)
                .is_some_and(|&at| event.started_at.unix_micros <= at)
        })
    }

    /// Whether every event of the batch repeats an event_id its user stored
    /// before the call: then nothing is to be written at all.
    pub fn all_repeats(&self) -> bool {
        self.fates.iter().all(|fate| *fate == Fate::Duplicate)
    }

    /// Creates the users that events to store need and renames those whose latest
    /// name changes, in one statement (none when nothing changes). A user that a
    /// concurrent call created meanwhile is looked up, and every event judged
    /// again (its e-mail may not be the one that call stored).
    pub fn write_users(&mut self) -> Result<()> {
        let changes = self.user_changes(|_| true);
        if changes.is_empty() {
            return Ok(());
        }
        let created = users::apply(&changes)?;
        for new in &changes.create {
            if created.contains(&new.user_key) {
                self.found.users.insert(
                    new.user_key,
                    StoredUser {
                        email: new.email.to_string(),
                        name: new.name.map(str::to_string),
                    },
                );
            }
        }
        let raced: Vec<i64> = changes
            .create
            .iter()
            .map(|new| new.user_key)
            .filter(|key| !created.contains(key))
            .collect();
        self.created_users = created;
        if raced.is_empty() {
            return Ok(());
        }
        let found = lookup(&Wanted {
            user_keys: raced.clone(),
            ..Wanted::default()
        })?;
        self.found.users.extend(found.users);
        self.found.erased.extend(found.erased);
        self.plan_new_users();
        self.classify();
        let renames = self.user_changes(|key| raced.contains(&key));
        if !renames.rename.is_empty() {
            users::apply(&UserChanges {
                create: Vec::new(),
                rename: renames.rename,
            })?;
        }
        Ok(())
    }

    /// The planned users that have events to store, each with its latest
    /// non-empty name, and the stored users (among those `among` keeps) whose
    /// latest name differs from the stored one.
    fn user_changes(&self, among: impl Fn(i64) -> bool) -> UserChanges<'e> {
        let mut names: BTreeMap<i64, Option<&'e str>> = BTreeMap::new();
        for (event, fate) in self.events.iter().zip(&self.fates) {
            if *fate != Fate::Store {
                continue;
            }
            let Ok(key) = self.keys.of_email(&event.email) else {
                continue;
            };
            let latest = names.entry(key).or_default();
            if let Some(name) = event.name.as_deref() {
                *latest = Some(name);
            }
        }
        let mut changes = UserChanges::default();
        for (&key, &name) in &names {
            if !among(key) {
                continue;
            }
            match (self.found.users.get(&key), self.planned.get(&key)) {
                (None, Some(&email)) => changes.create.push(NewUser {
                    user_key: key,
                    email,
                    name,
                }),
                (Some(stored), _) => {
                    if let Some(name) = name.filter(|n| stored.name.as_deref() != Some(*n)) {
                        changes.rename.push(NewName {
                            user_key: key,
                            name,
                        });
                    }
                }
                (None, None) => {}
            }
        }
        changes
    }

    /// With `on_error => 'raise'`: the first refused event, as the error that ends
    /// the call, before any event is written. `indexes` gives each event's index
    /// in the payload. An erased user's old event is dropped, not refused.
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

    /// Each event's outcome, once the insert has said which were stored (`stored`:
    /// the (user key, event_id) pairs it stored): an event meant to be stored whose
    /// event_id a concurrent call stored first is a duplicate.
    pub fn outcomes(&self, stored: &HashSet<(i64, &str)>) -> Result<Vec<Outcome>> {
        let mut outcomes = Vec::with_capacity(self.events.len());
        for (event, fate) in self.events.iter().zip(&self.fates) {
            outcomes.push(match fate {
                Fate::Refused => self.refusal(event),
                Fate::Duplicate => Outcome::Duplicate,
                Fate::Store => match event.event_id.as_deref() {
                    Some(id) => {
                        if stored.contains(&(self.keys.of_email(&event.email)?, id)) {
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
        if self.is_erased(event) {
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
