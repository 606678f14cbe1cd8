//! get_session_details: one session with its user, times, device and totals.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::{AnyNumeric, JsonB};

use crate::error::Result;
use crate::storage::rows::required;
use crate::storage::statements::{read, SESSION_DETAILS};

pub type SessionDetails = (
    String,
    String,
    Option<String>,
    TimestampWithTimeZone,
    Option<TimestampWithTimeZone>,
    Option<f64>,
    Option<JsonB>,
    AnyNumeric,
    i64,
    Option<bool>,
    Option<bool>,
    Option<f64>,
);

/// The session with this client session id: one row, or none.
pub fn session_details(session_id: &str) -> Result<Vec<SessionDetails>> {
    read(
        &SESSION_DETAILS,
        || Ok(vec![session_id.into()]),
        |row| {
            Ok((
                required(row.get(1)?, "session_id")?,
                required(row.get(2)?, "email")?,
                row.get(3)?,
                required(row.get(4)?, "started_at")?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
                required(row.get(8)?, "talked_time")?,
                required(row.get(9)?, "event_count")?,
                row.get(10)?,
                row.get(11)?,
                row.get(12)?,
            ))
        },
    )
}
