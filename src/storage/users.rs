//! The users of a batch: found or created, cleaned up, renamed.

use std::collections::{BTreeMap, HashMap, HashSet};
use user_metrics_contract::Event;

use super::rows::{count, required, text_and_id};
use super::statements::*;
use crate::error::{Error, Result};

/// Every e-mail's user id and current name, and which users this call created.
pub struct Users {
    ids: HashMap<String, i64>,
    emails: HashMap<i64, String>,
    names: HashMap<i64, Option<String>>,
    pub created: Vec<i64>,
}

/// What `email_of` answers for a user who sent nothing in this batch. It is not a
/// valid e-mail (it has spaces), so no event of the batch can match it.
pub const SOMEONE_ELSE: &str = "another user";

impl Users {
    pub fn id_of(&self, email: &str) -> Result<i64> {
        self.ids
            .get(email)
            .copied()
            .ok_or_else(|| Error::Internal(format!("no user row for {email}")))
    }

    /// The e-mail of a user of this batch, or `SOMEONE_ELSE`.
    pub fn email_of(&self, id: i64) -> &str {
        self.emails.get(&id).map_or(SOMEONE_ELSE, String::as_str)
    }

    fn add(&mut self, email: String, id: i64, name: Option<String>) {
        self.names.insert(id, name);
        self.emails.insert(id, email.clone());
        self.ids.insert(email, id);
    }

    fn find(&mut self, emails: Vec<&str>) -> Result<()> {
        let found = read(
            &FIND_USERS,
            || Ok(vec![emails.into()]),
            |row| {
                Ok((
                    required(row.get::<String>(1)?, "email")?,
                    required(row.get::<i64>(2)?, "id")?,
                    row.get::<String>(3)?,
                ))
            },
        )?;
        for (email, id, name) in found {
            self.add(email, id, name);
        }
        Ok(())
    }
}

/// Finds the users with these e-mails and creates the missing ones. Most calls
/// name only known users, so the lookup comes first and the insert usually has
/// nothing to do.
pub fn find_or_create(mut emails: Vec<&str>) -> Result<Users> {
    emails.sort_unstable();
    emails.dedup();
    let mut users = Users {
        ids: HashMap::with_capacity(emails.len()),
        emails: HashMap::with_capacity(emails.len()),
        names: HashMap::with_capacity(emails.len()),
        created: Vec::new(),
    };
    users.find(emails.clone())?;
    let missing: Vec<&str> = emails
        .into_iter()
        .filter(|email| !users.ids.contains_key(*email))
        .collect();
    if missing.is_empty() {
        return Ok(users);
    }
    let to_insert = missing.clone();
    for (email, id) in write(&INSERT_USERS, || Ok(vec![to_insert.into()]), text_and_id)? {
        users.created.push(id);
        users.add(email, id, None);
    }
    // Users that a concurrent call created between our lookup and our insert.
    let raced: Vec<&str> = missing
        .into_iter()
        .filter(|email| !users.ids.contains_key(*email))
        .collect();
    if !raced.is_empty() {
        users.find(raced)?;
    }
    Ok(users)
}

/// Removes the users this call created that ended up with no stored event, so that
/// a refused or repeated event leaves nothing behind. Returns how many users this
/// call added in the end (created, less those removed).
pub fn remove_unused(users: &Users, stored: &[&Event]) -> Result<i64> {
    if users.created.is_empty() {
        return Ok(0);
    }
    let mut used = HashSet::new();
    for event in stored {
        used.insert(users.id_of(&event.email)?);
    }
    let unused: Vec<i64> = users
        .created
        .iter()
        .copied()
        .filter(|id| !used.contains(id))
        .collect();
    let mut removed = 0;
    if !unused.is_empty() {
        removed = write(&DELETE_UNUSED_USERS, || Ok(vec![unused.into()]), ignore)?.len();
    }
    count(users.created.len() - removed)
}

/// Gives each user the last non-empty name among the stored events (in batch
/// order), writing only the names that change.
pub fn rename(users: &Users, stored: &[&Event]) -> Result<()> {
    let mut latest: BTreeMap<i64, &str> = BTreeMap::new();
    for event in stored {
        if let Some(name) = &event.name {
            latest.insert(users.id_of(&event.email)?, name.as_ref());
        }
    }
    latest.retain(|id, name| users.names.get(id).and_then(|n| n.as_deref()) != Some(*name));
    if latest.is_empty() {
        return Ok(());
    }
    write(
        &RENAME_USERS,
        || {
            let ids: Vec<i64> = latest.keys().copied().collect();
            let names: Vec<&str> = latest.values().copied().collect();
            Ok(vec![ids.into(), names.into()])
        },
        ignore,
    )?;
    Ok(())
}
