//! aggregate_user_metrics: talked time and session count per user.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;

use super::required;
use crate::error::Result;
use crate::storage::statements::{query, USER_TOTALS_ALL, USER_TOTALS_ONE};

pub type UserTotals = (String, Option<String>, f64, i64);

/// Per user, over the sessions that started in `[since, until)`; one user when
/// `email` is given (matched without regard to case). Ordered by e-mail.
pub fn user_totals(
    email: Option<&str>,
    since: Option<TimestampWithTimeZone>,
    until: Option<TimestampWithTimeZone>,
) -> Result<Vec<UserTotals>> {
    Spi::connect(|client| {
        let rows = match email {
            None => query(client, &USER_TOTALS_ALL, &[since.into(), until.into()])?,
            Some(email) => query(
                client,
                &USER_TOTALS_ONE,
                &[email.into(), since.into(), until.into()],
            )?,
        };
        let mut totals = Vec::with_capacity(rows.len());
        for row in rows {
            totals.push((
                required(row.get(1)?, "email")?,
                row.get(2)?,
                required(row.get(3)?, "total_talked_time")?,
                required(row.get(4)?, "session_count")?,
            ));
        }
        Ok(totals)
    })
}
