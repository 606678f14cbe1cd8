//! GET /health, for load balancers and people, and GET /metrics, for
//! Prometheus.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{json, Shared};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::metrics;
use crate::queries;
use crate::requests::Deadline;
use crate::tokens::Access;

pub async fn health(
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

/// GET /metrics, for a metrics token or a reader token. The database's figures
/// are read as the health role; without them (the database does not answer),
/// the server's own are still given, with user_metrics_database_up 0.
pub async fn prometheus_metrics(
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
