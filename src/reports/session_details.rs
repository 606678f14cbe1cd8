//! get_session_details: one session with its user, times, device and totals;
//! get_user_sessions: the same for each session of one user.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::{AnyNumeric, JsonB};
use user_metrics_contract::{normalize_email, user_key};

use crate::error::Result;
use crate::sql::{
    read, result_row, ResultRow, SESSION_DETAILS, SESSION_DETAILS_ALL_USERS, USER_SESSIONS,
};

result_row! {
    /// One row of get_session_details.
    pub struct SessionDetails {
        session_id: String,
        email: String,
        name: Option<String>,
        started_at: TimestampWithTimeZone,
        ended_at: Option<TimestampWithTimeZone>,
        duration_seconds: Option<f64>,
        device: Option<JsonB>,
        talked_time: AnyNumeric,
        event_count: i64,
        microphone_used: Option<bool>,
        speaker_used: Option<bool>,
        avg_voice_sentiment: Option<f64>,
    }
}

/// The session with this client session id: of the user with this e-mail (matched
/// as ingestion matches it) at most one row, read from that user's rows only;
/// without an e-mail, every user's session of that id, by e-mail.
pub fn session_details(session_id: &str, email: Option<&str>) -> Result<Vec<SessionDetails>> {
    match email {
        Some(email) => read(
            &SESSION_DETAILS,
            || {
                Ok(vec![
                    session_id.into(),
                    user_key(&normalize_email(email)).into(),
                ])
            },
            SessionDetails::read,
        ),
        None => read(
            &SESSION_DETAILS_ALL_USERS,
            || Ok(vec![session_id.into()]),
            SessionDetails::read,
        ),
    }
}

/// The sessions of the user with this e-mail (matched as ingestion matches it)
/// that started in `[since, until)` (NULL: unbounded), by start; read from that
/// user's rows only.
pub fn user_sessions(
    email: &str,
    since: Option<TimestampWithTimeZone>,
    until: Option<TimestampWithTimeZone>,
) -> Result<Vec<SessionDetails>> {
    read(
        &USER_SESSIONS,
        || {
            Ok(vec![
                user_key(&normalize_email(email)).into(),
                since.into(),
                until.into(),
            ])
        },
        SessionDetails::read,
    )
}
