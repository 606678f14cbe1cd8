//! The identity sequences of the extension's tables.

use crate::error::Result;
use crate::sql::{result_row, write, ResultRow, RESYNC_SEQUENCES};

result_row! {
    /// One identity sequence as resync_sequences() left it.
    pub struct SequenceMove {
        table_name: String,
        sequence_name: String,
        /// The table's largest id.
        max_id: Option<i64>,
        /// The sequence's last value before and after; NULL while it had handed
        /// out no value.
        previous_value: Option<i64>,
        new_value: Option<i64>,
    }
}

/// Moves each identity sequence past the largest id of its table, where it is
/// not already; returns every sequence, moved or not.
pub fn resync_sequences() -> Result<Vec<SequenceMove>> {
    write(&RESYNC_SEQUENCES, || Ok(vec![]), SequenceMove::read)
}
