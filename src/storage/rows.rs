//! Reading values out of SPI result rows.

use pgrx::spi::SpiHeapTupleData;

use crate::error::{Error, Result};

/// A value the query guarantees is not NULL.
pub fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| Error::Internal(format!("unexpected NULL in column {column}")))
}

/// A (text, bigint) row, e.g. (session id, row id).
pub fn text_and_id(row: SpiHeapTupleData<'_>) -> Result<(String, i64)> {
    Ok((
        required(row.get::<String>(1)?, "text key")?,
        required(row.get::<i64>(2)?, "id")?,
    ))
}

/// A number of rows, as the bigint the counters keep.
pub fn count(rows: usize) -> Result<i64> {
    i64::try_from(rows).map_err(|_| Error::Internal("row count overflows bigint".into()))
}
