//! The reports, for reader tokens: each calls one function of the extension
//! (or reads the view ingest_stats) as the token's role.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::{json, AppState, Shared};
use crate::error::ApiError;
use crate::extract::{Params, PathText, Reader};
use crate::input;
use crate::queries;
use crate::requests::Deadline;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Period {
    since: Option<String>,
    until: Option<String>,
}

/// A user's rows over a period: the e-mail of the path and the period of the
/// query, checked, passed to `sql` as `$1`, `$2` and `$3`.
async fn of_user_over_period(
    state: &AppState,
    deadline: Deadline,
    role: &str,
    email: &str,
    period: &Period,
    sql: &str,
) -> Result<Option<String>, ApiError> {
    input::text("email", email, input::EMAIL_CHARS)?;
    input::optional_timestamp("since", period.since.as_deref())?;
    input::optional_timestamp("until", period.until.as_deref())?;
    state
        .pools
        .one(
            role,
            sql,
            &[&email, &period.since, &period.until],
            deadline.0,
        )
        .await
}

/// GET /users/{email}/metrics: that user's totals over `[since, until)`.
pub async fn user_metrics(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Reader(role): Reader,
    PathText(email): PathText,
    Params(period): Params<Period>,
) -> Result<Response, ApiError> {
    let totals = of_user_over_period(
        &state,
        deadline,
        &role,
        &email,
        &period,
        queries::USER_TOTALS,
    )
    .await?;
    match totals {
        Some(totals) => Ok(json(StatusCode::OK, totals)),
        None => Err(ApiError::not_found(
            "no sessions of this user in the period",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SessionParams {
    email: Option<String>,
}

pub async fn session(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Reader(role): Reader,
    PathText(id): PathText,
    Params(params): Params<SessionParams>,
) -> Result<Response, ApiError> {
    input::text("session id", &id, input::SESSION_ID_CHARS)?;
    input::optional_text("email", params.email.as_deref(), input::EMAIL_CHARS)?;
    let sessions = state
        .pools
        .one(
            &role,
            queries::SESSION_DETAILS,
            &[&id, &params.email],
            deadline.0,
        )
        .await?
        .unwrap_or_default();
    if sessions == "[]" {
        return Err(ApiError::not_found("no such session"));
    }
    Ok(json(StatusCode::OK, sessions))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Week {
    week_ending: String,
    tz: String,
}

pub async fn weekly_report(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Reader(role): Reader,
    Params(week): Params<Week>,
) -> Result<Response, ApiError> {
    input::date("week_ending", &week.week_ending)?;
    input::text("tz", &week.tz, input::TIME_ZONE_CHARS)?;
    let rows = state
        .pools
        .one(
            &role,
            queries::WEEKLY_REPORT,
            &[&week.week_ending, &week.tz],
            deadline.0,
        )
        .await?;
    Ok(json(StatusCode::OK, rows.unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Activity {
    from: String,
    to: String,
    tz: String,
    per: Option<String>,
}

/// GET /reports/activity: per day or week of the calendar in `tz`, from the
/// period holding `from` to the one holding `to`.
pub async fn activity_report(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Reader(role): Reader,
    Params(range): Params<Activity>,
) -> Result<Response, ApiError> {
    input::date("from", &range.from)?;
    input::date("to", &range.to)?;
    input::text("tz", &range.tz, input::TIME_ZONE_CHARS)?;
    let per = range.per.as_deref().unwrap_or("day");
    input::text("per", per, input::WORD_CHARS)?;
    let rows = state
        .pools
        .one(
            &role,
            queries::ACTIVITY_REPORT,
            &[&range.from, &range.to, &range.tz, &per],
            deadline.0,
        )
        .await?;
    Ok(json(StatusCode::OK, rows.unwrap_or_default()))
}

/// GET /users/{email}/sessions: that user's sessions in `[since, until)`, by
/// start (an empty array for none).
pub async fn user_sessions(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Reader(role): Reader,
    PathText(email): PathText,
    Params(period): Params<Period>,
) -> Result<Response, ApiError> {
    let sessions = of_user_over_period(
        &state,
        deadline,
        &role,
        &email,
        &period,
        queries::USER_SESSIONS,
    )
    .await?;
    Ok(json(StatusCode::OK, sessions.unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Days {
    from: Option<String>,
    to: Option<String>,
}

/// GET /reports/ingestion: the view ingest_stats, per UTC day from `from` to
/// `to` (both optional).
pub async fn ingestion(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Reader(role): Reader,
    Params(days): Params<Days>,
) -> Result<Response, ApiError> {
    if let Some(from) = &days.from {
        input::date("from", from)?;
    }
    if let Some(to) = &days.to {
        input::date("to", to)?;
    }
    let rows = state
        .pools
        .one(
            &role,
            queries::INGESTION,
            &[&days.from, &days.to],
            deadline.0,
        )
        .await?;
    Ok(json(StatusCode::OK, rows.unwrap_or_default()))
}
