//! The identity sequences of the extension's tables.

use crate::error::Result;
use crate::storage::rows::required;
use crate::storage::statements::{write, RESYNC_SEQUENCES};

/// One identity sequence as resync_sequences() left it: (table, sequence, the
/// table's largest id, the sequence's last value before and after; NULL while
/// it had handed out no value).
pub type SequenceMove = (String, String, Option<i64>, Option<i64>, Option<i64>);

/// Moves each identity sequence past the largest id of its table, where it is
/// not already; returns every sequence, moved or not.
pub fn resync_sequences() -> Result<Vec<SequenceMove>> {
    write(
        &RESYNC_SEQUENCES,
        || Ok(vec![]),
        |row| {
            Ok((
                required(row.get::<String>(1)?, "table_name")?,
                required(row.get::<String>(2)?, "sequence_name")?,
                row.get::<i64>(3)?,
                row.get::<i64>(4)?,
                row.get::<i64>(5)?,
            ))
        },
    )
}
