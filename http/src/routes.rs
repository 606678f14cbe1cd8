//! The routes. Each one checks the caller's token, then calls one function of
//! the extension and returns its result as the function wrote it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::Router;
use serde::Deserialize;

use crate::connections::Connections;
use crate::db::{JsonbText, Pools};
use crate::error::ApiError;
use crate::extract::{Caller, Params, PathText, Reader, Writer};
use crate::input;
use crate::metrics::{self, Metrics};
use crate::queries;
use crate::requests::Deadline;
use crate::tokens::{Access, TokenFile};

pub struct AppState {
    pub tokens: TokenFile,
    pub pools: Pools,
    pub connections: Arc<Connections>,
    pub metrics: Metrics,
    /// The time limit of a request (requests.rs).
    pub timeout: Duration,
    /// The role `GET /health` runs as for callers without a token.
    pub health_role: String,
    /// The largest body, in bytes, and how long it may take to arrive.
    pub body_limit: usize,
    pub body_timeout: Duration,
}

type Shared = State<Arc<AppState>>;

pub const OPENAPI: &str = include_str!("../openapi.json");

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ingest", post(ingest))
        .route("/health", get(health))
        .route("/users/{email}/metrics", get(user_metrics))
        .route("/sessions/{id}", get(session))
        .route("/reports/weekly", get(weekly_report))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(prometheus_metrics))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take this method",
            )
        })
        .with_state(state)
}

/// A JSON document the database wrote, passed on as it is.
fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The whole body, within the size limit (413 beyond) and the time limit (408
/// beyond: the client is too slow, and the connection is closed).
async fn read_body(state: &AppState, body: Body, deadline: Deadline) -> Result<Bytes, ApiError> {
    let read = axum::body::to_bytes(body, state.body_limit);
    let by = deadline
        .0
        .min(tokio::time::Instant::now() + state.body_timeout);
    match tokio::time::timeout_at(by, read).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let error = e.into_inner();
            if error.is::<http_body_util::LengthLimitError>() {
                Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body is larger than {} bytes", state.body_limit),
                ))
            } else {
                Err(ApiError::bad_request(format!(
                    "the body could not be read: {error}"
                )))
            }
        }
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the body did not arrive in time (USER_METRICS_HTTP_BODY_TIMEOUT_MS {})",
                state.body_timeout.as_millis()
            ),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestParams {
    on_error: Option<String>,
}

async fn ingest(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Writer(role): Writer,
    Params(params): Params<IngestParams>,
    body: Body,
) -> Result<Response, ApiError> {
    input::optional_text("on_error", params.on_error.as_deref(), input::WORD_CHARS)?;
    let body = read_body(&state, body, deadline).await?;
    // Malformed JSON is the client's mistake (400), told before any database work;
    // the document is checked only, never turned into Rust values, and goes to
    // the database as sent.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        return Err(ApiError::bad_request(format!("the body is not JSON: {e}")));
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
    let on_error = params.on_error.as_deref().unwrap_or("quarantine");
    let summary = state
        .pools
        .one(
            &role,
            queries::INGEST,
            &[&JsonbText(text), &on_error],
            deadline.0,
        )
        .await?;
    Ok(json(StatusCode::OK, summary.unwrap_or_default()))
}

async fn health(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    caller: Caller,
) -> Result<Response, ApiError> {
    // Without a token: only whether it is up and its version (no counts: no
    // token, no data), asked as the health role.
    let (role, full) = match caller.0 {
        None => (state.health_role.clone(), false),
        Some(_) => (caller.role_for(Access::Read)?, true),
    };
    let report = state
        .pools
        .one(&role, queries::HEALTH, &[], deadline.0)
        .await
        .map_err(|mut e| {
            // Whatever keeps the database from answering, a load balancer needs 503.
            e.status = StatusCode::SERVICE_UNAVAILABLE;
            e
        })?
        .unwrap_or_default();
    let Ok(mut document) = serde_json::from_str::<serde_json::Value>(&report) else {
        return Err(ApiError::unavailable(
            "database_error",
            "health() did not return a JSON object",
        ));
    };
    let status = if document["status"] == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if full {
        return Ok(json(status, report));
    }
    let public = serde_json::json!({
        "status": document["status"].take(),
        "version": document["version"].take(),
    });
    Ok(json(status, public.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    since: Option<String>,
    until: Option<String>,
}

async fn user_metrics(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    Reader(role): Reader,
    PathText(email): PathText,
    Params(period): Params<Period>,
) -> Result<Response, ApiError> {
    input::text("email", &email, input::EMAIL_CHARS)?;
    input::optional_timestamp("since", period.since.as_deref())?;
    input::optional_timestamp("until", period.until.as_deref())?;
    let row = state
        .pools
        .one(
            &role,
            queries::USER_TOTALS,
            &[&email, &period.since, &period.until],
            deadline.0,
        )
        .await?;
    match row {
        Some(totals) => Ok(json(StatusCode::OK, totals)),
        None => Err(ApiError::not_found(
            "no sessions of this user in the period",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionParams {
    email: Option<String>,
}

async fn session(
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
struct Week {
    week_ending: String,
    tz: String,
}

async fn weekly_report(
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

/// GET /metrics, for a metrics token or a reader token. The database's figures
/// are read as the health role; without them (the database does not answer),
/// the server's own are still given, with user_metrics_database_up 0.
async fn prometheus_metrics(
    State(state): Shared,
    Extension(deadline): Extension<Deadline>,
    caller: Caller,
) -> Result<Response, ApiError> {
    match caller.0.map(|grant| grant.access) {
        Some(Access::Metrics | Access::Read) => {}
        Some(Access::Write) => {
            return Err(ApiError::forbidden(
                "GET /metrics needs a metrics token or a reader token",
            ))
        }
        None => {
            return Err(ApiError::unauthorized(
                "a bearer token is required (Authorization: Bearer <token>)",
            ))
        }
    }
    let database = state
        .pools
        .one(&state.health_role, queries::METRICS, &[], deadline.0)
        .await
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str(&text).ok());
    let tokens = state.tokens.current();
    let text = metrics::render(&metrics::Snapshot {
        metrics: &state.metrics,
        connections: &state.connections,
        pools: state.pools.figures(),
        tokens: &tokens,
        database,
    });
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn openapi() -> Response {
    json(StatusCode::OK, OPENAPI.to_owned())
}
