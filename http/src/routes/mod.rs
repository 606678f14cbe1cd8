//! The routes. Each one checks the caller's token, then calls one function of
//! the extension and returns its result as the function wrote it:
//! - `ingest`: POST /ingest;
//! - `reports`: the reports, for reader tokens;
//! - `monitoring`: GET /health and GET /metrics;
//! - `dashboard`: the dashboard's page and files, served from the binary.

mod dashboard;
mod ingest;
mod monitoring;
mod reports;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::connections::Connections;
use crate::db::Pools;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::tokens::TokenFile;

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

pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ingest", post(ingest::ingest))
        .route("/health", get(monitoring::health))
        .route("/metrics", get(monitoring::prometheus_metrics))
        .route("/users/{email}/metrics", get(reports::user_metrics))
        .route("/users/{email}/sessions", get(reports::user_sessions))
        .route("/sessions/{id}", get(reports::session))
        .route("/reports/weekly", get(reports::weekly_report))
        .route("/reports/activity", get(reports::activity_report))
        .route("/reports/ingestion", get(reports::ingestion))
        .route("/openapi.json", get(openapi))
        .merge(dashboard::routes())
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

async fn openapi() -> Response {
    json(StatusCode::OK, OPENAPI.to_owned())
}
