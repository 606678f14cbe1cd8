use pgrx::datum::{Date, TimestampWithTimeZone};
use pgrx::prelude::*;
use pgrx::{AnyNumeric, JsonB};

use crate::error::OrRaise;
use crate::reports;
use crate::sql::ResultRow;

/// Per user: total talked time (seconds, exact) and number of distinct sessions,
/// over the sessions that started in `[since, until)` (NULL: unbounded). `email`
/// limits it to one user, matched as ingestion matches it (without regard to case
/// or Unicode normal form). Ordered by e-mail.
#[pg_extern(stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn aggregate_user_metrics(
    email: default!(Option<&str>, "NULL"),
    since: default!(Option<TimestampWithTimeZone>, "NULL"),
    until: default!(Option<TimestampWithTimeZone>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(email, String),
        name!(name, Option<String>),
        name!(total_talked_time, AnyNumeric),
        name!(session_count, i64),
    ),
> {
    let rows = reports::user_totals(email, since, until).or_raise();
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}

/// The session with this client session id: with the user's e-mail, at most one
/// row (on Citus, read from that user's shard only); without it, one row per user
/// who has a session of that id, by e-mail.
// pgrx reads the column names from the signature, so the row type cannot be an alias.
#[allow(clippy::type_complexity)]
#[pg_extern(stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn get_session_details(
    session_id: Option<&str>,
    email: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(session_id, String),
        name!(email, String),
        name!(name, Option<String>),
        name!(started_at, TimestampWithTimeZone),
        name!(ended_at, Option<TimestampWithTimeZone>),
        name!(duration_seconds, Option<f64>),
        name!(device, Option<JsonB>),
        name!(talked_time, AnyNumeric),
        name!(event_count, i64),
        name!(microphone_used, Option<bool>),
        name!(speaker_used, Option<bool>),
        name!(avg_voice_sentiment, Option<f64>),
    ),
> {
    // No session has a NULL id.
    let rows = match session_id {
        Some(session_id) => reports::session_details(session_id, email).or_raise(),
        None => Vec::new(),
    };
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}

/// Per user with sessions that started in `[week_end - 7 days, week_end)`: session
/// count, total talked time and the start of the latest. Most talked time first,
/// then by e-mail. The days are those of the session's TimeZone; for the weeks of
/// a calendar, see the `(date, text)` form.
#[pg_extern(stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn generate_weekly_report(
    week_end: default!(Option<TimestampWithTimeZone>, "now()"),
) -> TableIterator<
    'static,
    (
        name!(email, String),
        name!(name, Option<String>),
        name!(session_count, i64),
        name!(total_talked_time, AnyNumeric),
        name!(last_session_at, TimestampWithTimeZone),
    ),
> {
    let rows = reports::weekly_report(week_end).or_raise();
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}

/// The same over the seven calendar days before `week_ending` in time zone `tz`
/// (e.g. 'Europe/Berlin'), from local midnight to local midnight, whatever the
/// session's TimeZone: a week in which the clocks change is 167 or 169 hours long.
#[pg_extern(stable, security_definer, name = "generate_weekly_report")]
#[search_path(pg_catalog, pg_temp)]
pub fn generate_local_weekly_report(
    week_ending: Option<Date>,
    tz: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(email, String),
        name!(name, Option<String>),
        name!(session_count, i64),
        name!(total_talked_time, AnyNumeric),
        name!(last_session_at, TimestampWithTimeZone),
    ),
> {
    let rows = reports::local_weekly_report(week_ending, tz).or_raise();
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}

/// The sessions of one user (`email`, matched as ingestion matches it) that
/// started in `[since, until)` (NULL: unbounded), in the columns of
/// get_session_details, by start; read from that user's rows only (on Citus,
/// from one shard).
// pgrx reads the column names from the signature, so the row type cannot be an alias.
#[allow(clippy::type_complexity)]
#[pg_extern(stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn get_user_sessions(
    email: Option<&str>,
    since: default!(Option<TimestampWithTimeZone>, "NULL"),
    until: default!(Option<TimestampWithTimeZone>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(session_id, String),
        name!(email, String),
        name!(name, Option<String>),
        name!(started_at, TimestampWithTimeZone),
        name!(ended_at, Option<TimestampWithTimeZone>),
        name!(duration_seconds, Option<f64>),
        name!(device, Option<JsonB>),
        name!(talked_time, AnyNumeric),
        name!(event_count, i64),
        name!(microphone_used, Option<bool>),
        name!(speaker_used, Option<bool>),
        name!(avg_voice_sentiment, Option<f64>),
    ),
> {
    let rows = email
        .ok_or(crate::error::Error::NullArgument("email"))
        .and_then(|email| reports::user_sessions(email, since, until))
        .or_raise();
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}

/// Per day (`per => 'day'`) or week from Monday (`'week'`) of the calendar in
/// time zone `tz`, from the period holding `first_day` to the one holding
/// `last_day` (at most 3,660 days): the sessions that started in it, their
/// distinct users and their total talked time. Every period is listed, with
/// zeros when nothing happened; a day is 23 or 25 hours long when the clocks
/// change in it.
#[pg_extern(stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn generate_activity_report(
    first_day: Option<Date>,
    last_day: Option<Date>,
    tz: Option<&str>,
    per: default!(Option<&str>, "'day'"),
) -> TableIterator<
    'static,
    (
        name!(period_start, Date),
        name!(session_count, i64),
        name!(user_count, i64),
        name!(total_talked_time, AnyNumeric),
    ),
> {
    let rows = reports::activity_report(first_day, last_day, tz, per).or_raise();
    TableIterator::new(rows.into_iter().map(ResultRow::into_tuple))
}
