//! health(): is the extension usable, and roughly how much does it hold.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::error::{Error, Result};
use crate::storage::statements::{query, HEALTH};

pub fn health() -> Result<JsonB> {
    Spi::connect(|client| {
        let rows = query(client, &HEALTH, &[])?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("health query returned no row".into()))?;
        row.get::<JsonB>(1)?
            .ok_or_else(|| Error::Internal("health query returned NULL".into()))
    })
}
