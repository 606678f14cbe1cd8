//! The user key of every e-mail of a batch, computed once (see
//! `user_metrics_contract::user_key`). Every statement of a call names the keys of
//! the users it concerns, so it reads and writes their rows only: on Citus, their
//! shards only.

use super::key_hash::HashMap;
use std::collections::BTreeSet;
use user_metrics_contract::{user_key, Event};

use crate::error::{Error, Result};

pub struct Keys<'e> {
    by_email: HashMap<&'e str, i64>,
}

impl<'e> Keys<'e> {
    pub fn of(events: &'e [Event<'_>]) -> Keys<'e> {
        let mut by_email = HashMap::default();
        for event in events {
            by_email
                .entry(event.email.as_ref())
                .or_insert_with(|| user_key(&event.email));
        }
        Keys { by_email }
    }

    pub fn of_email(&self, email: &str) -> Result<i64> {
        self.by_email
            .get(email)
            .copied()
            .ok_or_else(|| Error::Internal(format!("no user key for {email}")))
    }

    /// The distinct keys, sorted.
    pub fn sorted(&self) -> Vec<i64> {
        let keys: BTreeSet<i64> = self.by_email.values().copied().collect();
        keys.into_iter().collect()
    }
}
