//! Every error a route answers with: an HTTP status and a JSON body
//! `{"error": code, "message": ..., "sqlstate": ..., "detail": ...}`.
//!
//! Errors from the database keep PostgreSQL's message and DETAIL for the client
//! (a raise-mode refusal names the event's index, field and code there), but the
//! server's own log line gets the SQLSTATE only: a message or DETAIL may quote a
//! value of the payload, e-mails included.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub sqlstate: Option<String>,
    pub detail: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sqlstate: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            sqlstate: None,
            detail: None,
        }
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// An error of a call already sent. With a SQLSTATE, the database answered
    /// and rolled the call back; without one, the connection broke before the
    /// answer came, and whether the call committed is not known: no retry is
    /// advised (events sent with an `event_id` may be sent again safely: a
    /// stored one counts as a duplicate).
    pub fn from_call(error: &tokio_postgres::Error) -> Self {
        if error.as_db_error().is_some() {
            return Self::from_database(error);
        }
        Self::new(
            StatusCode::BAD_GATEWAY,
            "outcome_unknown",
            "the connection to the database broke while the call was under way: it may or may \
             not have been stored",
        )
    }

    /// An error of a database call, by its SQLSTATE (README, "Error codes").
    pub fn from_database(error: &tokio_postgres::Error) -> Self {
        let Some(db) = error.as_db_error() else {
            // No SQLSTATE: the connection broke or could not be made.
            return Self::unavailable("database_unavailable", "the database did not answer");
        };
        let sqlstate = db.code().code();
        let (status, code) = status_of_sqlstate(sqlstate);
        ApiError {
            status,
            code,
            message: db.message().to_owned(),
            sqlstate: Some(sqlstate.to_owned()),
            detail: db.detail().map(str::to_owned),
        }
    }
}

/// The HTTP status of a SQLSTATE the extension's functions raise.
pub fn status_of_sqlstate(sqlstate: &str) -> (StatusCode, &'static str) {
    match sqlstate {
        // The argument is not JSON PostgreSQL accepts (e.g. a \u0000 escape), or a
        // query parameter is not a date or a timestamp, or holds a NUL.
        "22P02" | "22P05" | "22007" | "22008" | "22021" => (StatusCode::BAD_REQUEST, "bad_request"),
        // More than 100,000 events or 64 MiB of compact JSON in one call.
        "54000" => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        // on_error => 'raise' refusing an event, an on_error value or a top-level
        // value the function does not take, an unknown time zone, a NULL argument.
        "22023" | "22004" => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
        "42501" => (StatusCode::FORBIDDEN, "forbidden"),
        // A retry may succeed: deadlock, serialization failure, lock timeout, a
        // cancelled or timed-out statement, a standby, a server shutting down.
        "40P01" | "40001" | "55P03" | "57014" | "25006" | "57P01" | "57P02" | "57P03" => {
            (StatusCode::SERVICE_UNAVAILABLE, "retry")
        }
        s if s.starts_with("08") || s.starts_with("53") => {
            (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "database_error"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code,
            message: &self.message,
            sqlstate: self.sqlstate.as_deref(),
            detail: self.detail.as_deref(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        // The log line (requests.rs) reads the SQLSTATE from here, never the message.
        if let Some(state) = self.sqlstate {
            response.extensions_mut().insert(SqlState(state));
        }
        response
    }
}

/// The SQLSTATE of a failed database call, for the request's log line.
#[derive(Clone)]
pub struct SqlState(pub String);
