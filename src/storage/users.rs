//! The users of a batch: found or created, cleaned up, renamed.

use std::collections::{BTreeMap, HashMap, HashSet};
use user_metrics_contract::Event;

use super::keys::Keys;
use crate::error::Result;
use crate::sql::*;

/// The batch's users: each key's stored e-mail and name, which e-mails cannot be
/// stored because another e-mail holds their key, and which users this call
/// created.
pub struct Users {
    stored: HashMap<i64, (String, Option<String>)>,
    colliding: HashSet<String>,
    pub created: Vec<i64>,
}

impl Users {
    /// Whether the e-mail's key belongs to another e-mail.
    pub fn collides(&self, email: &str) -> bool {
        self.colliding.contains(email)
    }

    fn find(&mut self, keys: Vec<i64>) -> Result<()> {
        let found = read(&FIND_USERS, || Ok(vec![keys.into()]), StoredUser::read)?;
        for user in found {
            self.stored.insert(user.user_key, (user.email, user.name));
        }
        Ok(())
    }

    /// Marks every e-mail of the batch whose key is stored for another e-mail.
    fn note_collisions(&mut self, keys: &Keys) {
        for (email, key) in keys.iter() {
            if self
                .stored
                .get(&key)
                .is_some_and(|(owner, _)| owner != email)
            {
                self.colliding.insert(email.to_string());
            }
        }
    }
}

result_row! {
    /// A stored user, as find_users returns it.
    pub struct StoredUser {
        user_key: i64,
        email: String,
        name: Option<String>,
    }
}

parameter_rows! {
    /// A user as insert_users creates it.
    pub struct NewUser<'e> {
        user_key: i64,
        email: &'e str,
    }
}

parameter_rows! {
    /// A user's new name, as rename_users takes it.
    pub struct NewName<'e> {
        user_key: i64,
        name: &'e str,
    }
}

/// Finds the users of these e-mails and creates the missing ones. Most calls name
/// only known users, so the lookup comes first and the insert usually has nothing
/// to do.
pub fn find_or_create(keys: &Keys) -> Result<Users> {
    let mut users = Users {
        stored: HashMap::new(),
        colliding: HashSet::new(),
        created: Vec::new(),
    };
    users.find(keys.sorted())?;
    users.note_collisions(keys);

    // Per missing key, the e-mail to create it for: if two e-mails of the batch
    // share a key, the first in byte order.
    let mut missing: BTreeMap<i64, &str> = BTreeMap::new();
    for (email, key) in keys.iter() {
        if users.stored.contains_key(&key) {
            continue;
        }
        let owner = missing.entry(key).or_insert(email);
        if email < *owner {
            *owner = email;
        }
    }
    if missing.is_empty() {
        return Ok(users);
    }
    let created = write(
        &INSERT_USERS,
        || {
            Ok(NewUser::into_args(
                missing
                    .iter()
                    .map(|(&user_key, &email)| NewUser { user_key, email }),
            ))
        },
        |row| column::<i64>(&row, "user_key"),
    )?;
    for key in &created {
        if let Some(email) = missing.remove(key) {
            users.stored.insert(*key, (email.to_string(), None));
        }
    }
    users.created = created;
    // Users that a concurrent call created between our lookup and our insert.
    if !missing.is_empty() {
        users.find(missing.into_keys().collect())?;
    }
    users.note_collisions(keys);
    Ok(users)
}

/// Removes the users this call created that ended up with no stored event, so that
/// a refused or repeated event leaves nothing behind. Returns how many users this
/// call added in the end (created, less those removed).
pub fn remove_unused(users: &Users, keys: &Keys, stored: &[&Event]) -> Result<i64> {
    if users.created.is_empty() {
        return Ok(0);
    }
    let mut used = HashSet::new();
    for event in stored {
        used.insert(keys.of_email(&event.email)?);
    }
    let unused: Vec<i64> = users
        .created
        .iter()
        .copied()
        .filter(|key| !used.contains(key))
        .collect();
    let mut removed = 0;
    if !unused.is_empty() {
        removed = write(&DELETE_UNUSED_USERS, || Ok(vec![unused.into()]), ignore)?.len();
    }
    count(users.created.len() - removed)
}

/// Gives each user the last non-empty name among the stored events (in batch
/// order), writing only the names that change.
pub fn rename(users: &Users, keys: &Keys, stored: &[&Event]) -> Result<()> {
    let mut latest: BTreeMap<i64, &str> = BTreeMap::new();
    for event in stored {
        if let Some(name) = &event.name {
            latest.insert(keys.of_email(&event.email)?, name.as_ref());
        }
    }
    latest.retain(|key, name| users.stored.get(key).and_then(|(_, n)| n.as_deref()) != Some(*name));
    if latest.is_empty() {
        return Ok(());
    }
    write(
        &RENAME_USERS,
        || {
            Ok(NewName::into_args(
                latest
                    .iter()
                    .map(|(&user_key, &name)| NewName { user_key, name }),
            ))
        },
        ignore,
    )?;
    Ok(())
}
