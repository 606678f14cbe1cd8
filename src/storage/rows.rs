//! Reading values out of SPI result rows.

use crate::error::{Error, Result};

/// A value the query guarantees is not NULL.
pub fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| Error::Internal(format!("unexpected NULL in column {column}")))
}

/// A number of rows, as the bigint the counters keep.
pub fn count(rows: usize) -> Result<i64> {
    i64::try_from(rows).map_err(|_| Error::Internal("row count overflows bigint".into()))
}
