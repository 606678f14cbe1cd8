//! Users erased with forget_user: their old events, sent again, are refused and
//! not kept (see `sql/schema.sql`, table forgotten_users).

use std::collections::HashMap;

use super::keys::Keys;
use super::rows::required;
use super::statements::{read, FORGOTTEN_USERS};
use crate::error::Result;

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

pub fn erased(keys: &Keys) -> Result<Erased> {
    let rows = read(
        &FORGOTTEN_USERS,
        || Ok(vec![keys.sorted().into()]),
        |row| {
            Ok((
                required(row.get::<i64>(1)?, "user_key")?,
                required(row.get::<i64>(2)?, "forgotten_at")?,
            ))
        },
    )?;
    Ok(Erased(rows.into_iter().collect()))
}
