//! health(): is the extension usable, and roughly how much does it hold.

use pgrx::JsonB;

use crate::error::{Error, Result};
use crate::storage::rows::required;
use crate::storage::statements::{read, HEALTH};

pub fn health() -> Result<JsonB> {
    read(
        &HEALTH,
        || Ok(vec![]),
        |row| required(row.get::<JsonB>(1)?, "health"),
    )?
    .pop()
    .ok_or_else(|| Error::Internal("health query returned no row".into()))
}
