//! Users erased with forget_user: their old events, sent again, are refused and
//! not kept (see `sql/schema.sql`, table forgotten_users).

use std::collections::HashMap;

use super::keys::Keys;
use crate::error::Result;
use crate::sql::{read, result_row, ResultRow, FORGOTTEN_USERS};

/// Per erased user key of the batch, when it was last erased (microseconds since
/// the Unix epoch).
pub struct Erased(HashMap<i64, i64>);

impl Erased {
    /// Whether an event of this user, of a session started at `started_at`
    /// (microseconds), belongs to what was erased.
    pub fn covers(&self, user_key: i64, started_at: i64) -> bool {
        self.0.get(&user_key).is_some_and(|&at| started_at <= at)
    }
}

result_row! {
    /// When a user was last erased, as forgotten_users returns it.
    pub struct LastErasure {
        user_key: i64,
        /// Microseconds since the Unix epoch.
        forgotten_at_micros: i64,
    }
}

/// The erased users among `keys`.
pub fn erased(keys: &Keys) -> Result<Erased> {
    let rows = read(
        &FORGOTTEN_USERS,
        || Ok(vec![keys.sorted().into()]),
        LastErasure::read,
    )?;
    Ok(Erased(
        rows.into_iter()
            .map(|row| (row.user_key, row.forgotten_at_micros))
            .collect(),
    ))
}
