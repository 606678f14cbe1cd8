//! generate_activity_report: sessions, users and talked time per day or week of
//! a calendar in a time zone, every period of the range listed.

use pgrx::datum::{Date, TimestampWithTimeZone};
use pgrx::AnyNumeric;

use crate::error::{Error, Result};
use crate::sql::{read, result_row, ResultRow, ACTIVITY_PERIODS, ACTIVITY_REPORT};

/// The longest range, in days: ten years of daily rows.
pub const MAX_DAYS: i32 = 3660;

result_row! {
    /// One row of generate_activity_report.
    pub struct ActivityRow {
        period_start: Date,
        session_count: i64,
        user_count: i64,
        total_talked_time: AnyNumeric,
    }
}

result_row! {
    /// A period of the range, as activity_periods computes it: `[period_from, period_to)`.
    pub struct Period {
        period_start: Date,
        period_from: TimestampWithTimeZone,
        period_to: TimestampWithTimeZone,
    }
}

/// Per day or week (from Monday) of the calendar in `tz`, from the period
/// holding `first_day` to the one holding `last_day`: the sessions that started
/// in it, their distinct users and their total talked time; zeros for a period
/// without sessions.
pub fn activity_report(
    first_day: Option<Date>,
    last_day: Option<Date>,
    tz: Option<&str>,
    per: Option<&str>,
) -> Result<Vec<ActivityRow>> {
    let first_day = first_day.ok_or(Error::NullArgument("first_day"))?;
    let last_day = last_day.ok_or(Error::NullArgument("last_day"))?;
    let tz = tz.ok_or(Error::NullArgument("tz"))?;
    let per = per.ok_or(Error::NullArgument("per"))?;
    if per != "day" && per != "week" {
        return Err(Error::InvalidArgument(format!(
            "per must be 'day' or 'week', got '{}'",
            per.chars().take(64).collect::<String>()
        )));
    }
    if !first_day.is_finite() || !last_day.is_finite() {
        return Err(Error::InvalidArgument(
            "first_day and last_day must be finite dates".into(),
        ));
    }
    let days = last_day.to_pg_epoch_days() - first_day.to_pg_epoch_days() + 1;
    if days < 1 {
        return Err(Error::InvalidArgument(
            "last_day must not be before first_day".into(),
        ));
    }
    if days > MAX_DAYS {
        return Err(Error::InvalidArgument(format!(
            "the range spans {days} days, more than {MAX_DAYS}"
        )));
    }
    let periods = read(
        &ACTIVITY_PERIODS,
        || {
            Ok(vec![
                first_day.into(),
                last_day.into(),
                tz.into(),
                per.into(),
            ])
        },
        Period::read,
    )?;
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Err(Error::Internal("the range has no period".into()));
    };
    let (from, to) = (first.period_from, last.period_to);
    let mut active = read(
        &ACTIVITY_REPORT,
        || Ok(vec![from.into(), to.into(), tz.into(), per.into()]),
        ActivityRow::read,
    )?
    .into_iter()
    .peekable();
    // Both lists are ordered by period: one pass puts each active period in
    // its place and zeros in the others.
    let mut rows = Vec::with_capacity(periods.len());
    for period in periods {
        let day = period.period_start.to_pg_epoch_days();
        match active.next_if(|row| row.period_start.to_pg_epoch_days() == day) {
            Some(row) => rows.push(row),
            None => rows.push(ActivityRow {
                period_start: period.period_start,
                session_count: 0,
                user_count: 0,
                total_talked_time: AnyNumeric::from(0),
            }),
        }
    }
    Ok(rows)
}
