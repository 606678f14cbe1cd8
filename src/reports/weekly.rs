//! generate_weekly_report: per-user activity over the seven days before week_end.

use pgrx::datum::{Date, TimestampWithTimeZone};
use pgrx::AnyNumeric;

use crate::error::{Error, Result};
use crate::sql::{
    read, result_row, Args, ResultRow, Statement, LOCAL_WEEK_BOUNDS, WEEKLY_REPORT, WEEK_BOUNDS,
};

result_row! {
    /// One row of generate_weekly_report.
    pub struct WeeklyRow {
        email: String,
        name: Option<String>,
        session_count: i64,
        total_talked_time: AnyNumeric,
        last_session_at: TimestampWithTimeZone,
    }
}

result_row! {
    /// A week, as week_bounds and local_week_bounds compute it: `[week_start, week_end)`.
    pub struct Week {
        week_start: TimestampWithTimeZone,
        week_end: TimestampWithTimeZone,
    }
}

/// Per user with sessions that started in `[week_end - 7 days, week_end)` (days of
/// the session's TimeZone): their count, total talked time and the latest start.
/// Most talked time first.
pub fn weekly_report(week_end: Option<TimestampWithTimeZone>) -> Result<Vec<WeeklyRow>> {
    let week_end = week_end.ok_or(Error::NullArgument("week_end"))?;
    report_between(&WEEK_BOUNDS, vec![week_end.into()])
}

/// The same over the seven calendar days before `week_ending` in time zone `tz`.
pub fn local_weekly_report(week_ending: Option<Date>, tz: Option<&str>) -> Result<Vec<WeeklyRow>> {
    let week_ending = week_ending.ok_or(Error::NullArgument("week_ending"))?;
    let tz = tz.ok_or(Error::NullArgument("tz"))?;
    report_between(&LOCAL_WEEK_BOUNDS, vec![week_ending.into(), tz.into()])
}

fn report_between(bounds: &Statement, bounds_args: Args) -> Result<Vec<WeeklyRow>> {
    let week = read(bounds, || Ok(bounds_args), Week::read)?
        .pop()
        .ok_or_else(|| Error::Internal("the week's bounds were not computed".into()))?;
    read(
        &WEEKLY_REPORT,
        || Ok(vec![week.week_start.into(), week.week_end.into()]),
        WeeklyRow::read,
    )
}
