//! aggregate_user_metrics: talked time and session count per user.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::AnyNumeric;
use user_metrics_contract::{normalize_email, user_key};

use crate::error::Result;
use crate::sql::{read, result_row, ResultRow, USER_TOTALS_ALL, USER_TOTALS_ONE};

result_row! {
    /// One row of aggregate_user_metrics.
    pub struct UserTotals {
        email: String,
        name: Option<String>,
        total_talked_time: AnyNumeric,
        session_count: i64,
    }
}

/// Per user, over the sessions that started in `[since, until)`; one user when
/// `email` is given (matched as ingestion matches it: without regard to case or
/// Unicode normal form). Ordered by e-mail.
pub fn user_totals(
    email: Option<&str>,
    since: Option<TimestampWithTimeZone>,
    until: Option<TimestampWithTimeZone>,
) -> Result<Vec<UserTotals>> {
    match email {
        None => read(
            &USER_TOTALS_ALL,
            || Ok(vec![since.into(), until.into()]),
            UserTotals::read,
        ),
        // Users are keyed by their e-mail in the contract's normalized form.
        Some(email) => read(
            &USER_TOTALS_ONE,
            || {
                Ok(vec![
                    user_key(&normalize_email(email)).into(),
                    since.into(),
                    until.into(),
                ])
            },
            UserTotals::read,
        ),
    }
}
