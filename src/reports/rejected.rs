//! list_rejected_events: the quarantine, for the people who fix and resend events.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::JsonB;

use crate::error::{Error, Result};
use crate::storage::rows::required;
use crate::storage::statements::{read, LIST_REJECTED_EVENTS};

pub type RejectedRow = (
    i64,
    TimestampWithTimeZone,
    i32,
    Option<String>,
    String,
    String,
    JsonB,
);

/// The newest `max_rows` rejected events received at or after `since`.
pub fn rejected_events(
    since: Option<TimestampWithTimeZone>,
    max_rows: i32,
) -> Result<Vec<RejectedRow>> {
    if max_rows < 0 {
        return Err(Error::NegativeLimit(max_rows));
    }
    read(
        &LIST_REJECTED_EVENTS,
        || Ok(vec![since.into(), max_rows.into()]),
        |row| {
            Ok((
                required(row.get(1)?, "id")?,
                required(row.get(2)?, "received_at")?,
                required(row.get(3)?, "batch_index")?,
                row.get(4)?,
                required(row.get(5)?, "error_code")?,
                required(row.get(6)?, "error_message")?,
                required(row.get(7)?, "payload")?,
            ))
        },
    )
}
