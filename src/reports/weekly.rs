//! generate_weekly_report: per-user activity over the seven days before week_end.

use pgrx::datum::TimestampWithTimeZone;
use pgrx::AnyNumeric;

use crate::error::Result;
use crate::storage::rows::required;
use crate::storage::statements::{read, WEEKLY_REPORT};

pub type WeeklyRow = (
    String,
    Option<String>,
    i64,
    AnyNumeric,
    TimestampWithTimeZone,
);

/// Per user with sessions that started in `[week_end - 7 days, week_end)`: their
/// count, total talked time and the latest start. Most talked time first.
pub fn weekly_report(week_end: TimestampWithTimeZone) -> Result<Vec<WeeklyRow>> {
    read(
        &WEEKLY_REPORT,
        || Ok(vec![week_end.into()]),
        |row| {
            Ok((
                required(row.get(1)?, "email")?,
                row.get(2)?,
                required(row.get(3)?, "session_count")?,
                required(row.get(4)?, "total_talked_time")?,
                required(row.get(5)?, "last_session_at")?,
            ))
        },
    )
}
