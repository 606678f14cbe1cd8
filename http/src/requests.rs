//! What happens around every request: a time limit, and one log line.
//!
//! The line holds the method, the route's template (`/users/{email}/metrics`,
//! never the path itself, which may hold an e-mail), the status, the time taken,
//! and the SQLSTATE of a failed database call. Never a payload, a query string or
//! a database message, which may quote values sent.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, SqlState};

pub async fn limit_and_log(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let response = match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::unavailable(
            "timeout",
            format!("the request took longer than {} ms", timeout.as_millis()),
        )
        .into_response(),
    };
    let sqlstate = response
        .extensions()
        .get::<SqlState>()
        .map_or("", |s| s.0.as_str());
    tracing::info!(
        "{method} {route} {} {:.1}ms{}{sqlstate}",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
        if sqlstate.is_empty() {
            ""
        } else {
            " sqlstate="
        },
    );
    response
}
