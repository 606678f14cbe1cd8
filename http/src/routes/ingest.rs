//! POST /ingest: the body, as sent, to ingest_metrics.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::{json, AppState, Shared};
use crate::db::JsonbText;
use crate::error::ApiError;
use crate::extract::{Params, Writer};
use crate::input;
use crate::queries;
use crate::requests::Deadline;

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
pub(super) struct IngestParams {
    on_error: Option<String>,
}

pub async fn ingest(
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
