//! get_session_details: one session with its user, times, device and totals.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::{AnyNumeric, JsonB};

use crate::error::Result;
use crate::storage::rows::required;
use crate::storage::statements::{read, SESSION_DETAILS, SESSION_DETAILS_ALL_USERS};
use user_metrics_contract::{normalize_email, user_key};

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

/// The session with this client session id: of the user with this e-mail (matched
/// as ingestion matches it) at most one row, read from that user's rows only;
/// without an e-mail, every user's session of that id, by e-mail.
pub fn session_details(session_id: &str, email: Option<&str>) -> Result<Vec<SessionDetails>> {
    let row = |row: pgrx::spi::SpiHeapTupleData<'_>| {
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
    };
    match email {
        Some(email) => read(
            &SESSION_DETAILS,
            || {
                Ok(vec![
                    session_id.into(),
                    user_key(&normalize_email(email)).into(),
                ])
            },
            row,
        ),
        None => read(
            &SESSION_DETAILS_ALL_USERS,
            || Ok(vec![session_id.into()]),
            row,
        ),
    }
}
