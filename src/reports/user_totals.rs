//! aggregate_user_metrics: talked time and session count per user.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::AnyNumeric;
use user_metrics_contract::{normalize_email, user_key};

use crate::error::Result;
use crate::storage::rows::required;
use crate::storage::statements::{read, USER_TOTALS_ALL, USER_TOTALS_ONE};

pub type UserTotals = (String, Option<String>, AnyNumeric, i64);

/// Per user, over the sessions that started in `[since, until)`; one user when
/// `email` is given (matched as ingestion matches it: without regard to case or
/// Unicode normal form). Ordered by e-mail.
pub fn user_totals(
    email: Option<&str>,
    since: Option<TimestampWithTimeZone>,
    until: Option<TimestampWithTimeZone>,
) -> Result<Vec<UserTotals>> {
    let row = |row: pgrx::spi::SpiHeapTupleData<'_>| {
        Ok((
            required(row.get(1)?, "email")?,
            row.get(2)?,
            required(row.get(3)?, "total_talked_time")?,
            required(row.get(4)?, "session_count")?,
        ))
    };
    match email {
        None => read(
            &USER_TOTALS_ALL,
            || Ok(vec![since.into(), until.into()]),
            row,
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
            row,
        ),
    }
}
