//! What happens around every request: its deadline, one log line, and its
//! count and time for GET /metrics.
//!
//! The line holds the method, the route's template (`/users/{email}/metrics`,
//! never the path itself, which may hold an e-mail), the status, the time taken,
//! and the SQLSTATE of a failed database call. Never a payload, a query string or
//! a database message, which may quote values sent.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::SqlState;
use crate::routes::AppState;

/// When a request must be answered: its arrival (its head read) plus
/// USER_METRICS_HTTP_TIMEOUT_MS. Reading the body, waiting for a database
/// connection and the call all count; db.rs keeps the call within it.
#[derive(Clone, Copy)]
pub struct Deadline(pub tokio::time::Instant);

pub async fn deadline_and_log(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    request
        .extensions_mut()
        .insert(Deadline(tokio::time::Instant::now() + state.timeout));
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let method = method.as_str();
    let response = next.run(request).await;
    let took = started.elapsed();
    state
        .metrics
        .request(method, &route, response.status().as_u16(), took);
    let sqlstate = response
        .extensions()
        .get::<SqlState>()
        .map_or("", |s| s.0.as_str());
    tracing::info!(
        "{method} {route} {} {:.1}ms{}{sqlstate}",
        response.status().as_u16(),
        took.as_secs_f64() * 1000.0,
        if sqlstate.is_empty() {
            ""
        } else {
            " sqlstate="
        },
    );
    response
}
