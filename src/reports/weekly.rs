//! generate_weekly_report: per-user activity over the seven days before week_end.

use pgrx::datum::{Date, TimestampWithTimeZone};
use pgrx::AnyNumeric;

use super::calendar::Zone;
use crate::error::{Error, Result};
use crate::sql::{read, result_row, ResultRow, WEEKLY_REPORT, WEEK_BOUNDS};

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
    /// A week: `[week_start, week_end)`.
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
    let week = read(&WEEK_BOUNDS, || Ok(vec![week_end.into()]), Week::read)?
        .pop()
        .ok_or_else(|| Error::Internal("the week's bounds were not computed".into()))?;
    report(week)
}

/// The same over the seven local days before `week_ending` in the time zone `tz`
/// (a name of the tz database).
pub fn local_weekly_report(week_ending: Option<Date>, tz: Option<&str>) -> Result<Vec<WeeklyRow>> {
    let week_ending = week_ending.ok_or(Error::NullArgument("week_ending"))?;
    let tz = tz.ok_or(Error::NullArgument("tz"))?;
    report(local_week(week_ending, &Zone::named(tz)?)?)
}

/// The seven local days before `week_ending`: from the first instant of the first
/// to the first instant of `week_ending` (see `calendar`).
pub fn local_week(week_ending: Date, zone: &Zone) -> Result<Week> {
    let first_day = week_ending
        .to_pg_epoch_days()
        .checked_sub(7)
        .and_then(|days| Date::try_from(days).ok())
        .filter(|_| week_ending.is_finite())
        .ok_or_else(|| Error::DateOutOfRange("the week must end on a finite date".into()))?;
    Ok(Week {
        week_start: zone.day_start(first_day)?,
        week_end: zone.day_start(week_ending)?,
    })
}

fn report(week: Week) -> Result<Vec<WeeklyRow>> {
    read(
        &WEEKLY_REPORT,
        || Ok(vec![week.week_start.into(), week.week_end.into()]),
        WeeklyRow::read,
    )
}
