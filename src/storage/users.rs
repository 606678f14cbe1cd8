//! The users of a batch that change: created or renamed, in one statement
//! (`sql/queries/write_users.sql`), and removed again when a call created them for
//! nothing.

use super::key_hash::HashSet;

use crate::error::Result;
use crate::sql::*;

/// What a call changes of its users, each list sorted by key.
#[derive(Debug, Default)]
pub struct UserChanges<'e> {
    pub create: Vec<NewUser<'e>>,
    pub rename: Vec<NewName<'e>>,
}

impl UserChanges<'_> {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.rename.is_empty()
    }
}

parameter_rows! {
    /// A user as write_users creates it.
    #[derive(Debug, Clone, Copy)]
    pub struct NewUser<'e> {
        user_key: i64,
        email: &'e str,
        name: Option<&'e str>,
    }
}

parameter_rows! {
    /// A user's new name, as write_users takes it.
    #[derive(Debug, Clone, Copy)]
    pub struct NewName<'e> {
        user_key: i64,
        name: &'e str,
    }
}

result_row! {
    /// What write_users did to one user: 'created' or 'renamed'.
    pub struct UserChange {
        change: String,
        user_key: i64,
    }
}

/// Creates and renames users; returns the keys of the users it created (one that a
/// concurrent call created first is not among them).
pub fn apply(changes: &UserChanges) -> Result<Vec<i64>> {
    let done = write(
        &WRITE_USERS,
        || {
            let mut args = NewUser::into_args(changes.create.iter().copied());
            args.extend(NewName::into_args(changes.rename.iter().copied()));
            args.push(citus_loaded().into());
            Ok(args)
        },
        UserChange::read,
    )?;
    Ok(done
        .into_iter()
        .filter(|change| change.change == "created")
        .map(|change| change.user_key)
        .collect())
}

/// Removes the users this call created that ended up with no stored event (each of
/// their events turned out to be a repeat that a concurrent call stored first), so
/// that such events leave nothing behind. Returns how many users this call added
/// in the end (created, less those removed).
pub fn remove_unused(created: &[i64], used: &HashSet<i64>) -> Result<i64> {
    let unused: Vec<i64> = created
        .iter()
        .copied()
        .filter(|key| !used.contains(key))
        .collect();
    let mut removed = 0;
    if !unused.is_empty() {
        removed = write(&DELETE_UNUSED_USERS, || Ok(vec![unused.into()]), ignore)?.len();
    }
    count(created.len() - removed)
}
