//! The routes. Each one checks the caller's token, then calls one function of
//! the extension and returns its result as the function wrote it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::Router;
use serde::Deserialize;

use crate::db::{JsonbText, Pools};
use crate::error::ApiError;
use crate::queries;
use crate::requests::Deadline;
use crate::tokens::{Access, Grant, Tokens};

pub struct AppState {
    pub tokens: Tokens,
    pub pools: Pools,
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

/// The caller, from `Authorization: Bearer <token>`: no caller when the header
/// is absent, 401 when it is malformed or the token unknown.
pub struct Caller(Option<Grant>);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        // The scheme's name is case-insensitive (RFC 9110, section 11.1).
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
        match state.tokens.grant(token.trim()) {
            Some(grant) => Ok(Caller(Some(grant.clone()))),
            None => Err(ApiError::unauthorized("unknown token")),
        }
    }
}

/// A caller whose token may ingest: its role. Extracted first, so that nothing
/// of a request without such a token is read.
pub struct Writer(String);

/// A caller whose token may read: its role.
pub struct Reader(String);

impl FromRequestParts<Arc<AppState>> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        Caller::from_request_parts(parts, state)
            .await?
            .role_for(Access::Write)
            .map(Writer)
    }
}

impl FromRequestParts<Arc<AppState>> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        Caller::from_request_parts(parts, state)
            .await?
            .role_for(Access::Read)
            .map(Reader)
    }
}

impl Caller {
    /// The role to run as, when the token grants `access`.
    fn role_for(self, access: Access) -> Result<String, ApiError> {
        match self.0 {
            None => Err(ApiError::unauthorized(
                "a bearer token is required (Authorization: Bearer <token>)",
            )),
            Some(grant) if grant.access == access => Ok(grant.role),
            Some(_) => Err(ApiError::forbidden(match access {
                Access::Write => "this token may only read; ingesting needs a writer token",
                Access::Read => "this token may only ingest; reading needs a reader token",
            })),
        }
    }
}

/// A JSON document the database wrote, passed on as it is.
fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn query_error(e: QueryRejection) -> ApiError {
    ApiError::bad_request(e.body_text())
}

fn path_error(e: PathRejection) -> ApiError {
    ApiError::bad_request(e.body_text())
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
    params: Result<Query<IngestParams>, QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(query_error)?;
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
    email: Result<Path<String>, PathRejection>,
    period: Result<Query<Period>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(email) = email.map_err(path_error)?;
    let Query(period) = period.map_err(query_error)?;
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
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<SessionParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(path_error)?;
    let Query(params) = params.map_err(query_error)?;
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
    week: Result<Query<Week>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(week) = week.map_err(query_error)?;
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

async fn openapi() -> Response {
    json(StatusCode::OK, OPENAPI.to_owned())
}
