//! list_rejected_events: the quarantine, for the people who fix and resend events.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::JsonB;

use crate::error::{Error, Result};
use crate::sql::{read, result_row, ResultRow, LIST_REJECTED_EVENTS};

result_row! {
    /// One row of list_rejected_events.
    pub struct RejectedEvent {
        id: i64,
        received_at: TimestampWithTimeZone,
        batch_index: i32,
        event_id: Option<String>,
        error_code: String,
        error_message: String,
        payload: JsonB,
        times_received: i64,
        last_received_at: TimestampWithTimeZone,
    }
}

/// The `max_rows` rejected events that arrived last, at or after `since`.
pub fn rejected_events(
    since: Option<TimestampWithTimeZone>,
    max_rows: i32,
) -> Result<Vec<RejectedEvent>> {
    if max_rows < 0 {
        return Err(Error::NegativeLimit(max_rows));
    }
    read(
        &LIST_REJECTED_EVENTS,
        || Ok(vec![since.into(), max_rows.into()]),
        RejectedEvent::read,
    )
}
