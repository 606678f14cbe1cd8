//! health(): is the extension usable, and roughly how much does it hold.

use pgrx::JsonB;

use crate::error::{Error, Result};
use crate::sql::{column, read, HEALTH};

pub fn health() -> Result<JsonB> {
    read(
        &HEALTH,
        || Ok(vec![]),
        |row| column::<JsonB>(&row, "health"),
    )?
    .pop()
    .ok_or_else(|| Error::Internal("health query returned no row".into()))
}
