//! What the routes take from a request besides its body: the caller, from its
//! bearer token; the query's parameters; a path's one parameter. Each refuses
//! with an `ApiError` (401, 403, 400) before the route does anything.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::input;
use crate::routes::AppState;
use crate::tokens::{Access, Grant};

/// The caller, from `Authorization: Bearer <token>`: no caller when the header
/// is absent, 401 when it is malformed or the token unknown.
pub struct Caller(pub Option<Grant>);

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
            Some(grant) => Ok(Caller(Some(grant))),
            None => Err(ApiError::unauthorized("unknown token")),
        }
    }
}

/// A caller whose token may ingest: its role. Extracted first, so that nothing
/// of a request without such a token is read.
pub struct Writer(pub String);

/// A caller whose token may read: its role.
pub struct Reader(pub String);

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
    pub fn role_for(self, access: Access) -> Result<String, ApiError> {
        match self.0 {
            None => Err(ApiError::unauthorized(
                "a bearer token is required (Authorization: Bearer <token>)",
            )),
            Some(grant) if grant.access == access => Ok(grant.role),
            Some(grant) => Err(ApiError::forbidden(match (access, grant.access) {
                (Access::Write, Access::Read) => {
                    "this token may only read; ingesting needs a writer token"
                }
                (Access::Write, _) => {
                    "this token may only read GET /metrics; ingesting needs a writer token"
                }
                (_, Access::Write) => "this token may only ingest; reading needs a reader token",
                _ => "this token may only read GET /metrics; reading needs a reader token",
            })),
        }
    }
}

/// The query's parameters, as `T` takes them (unknown ones refused). The query
/// must be UTF-8 once decoded: a byte that is not would otherwise reach `T` as
/// U+FFFD.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        input::query_string(parts.uri.query().unwrap_or(""))?;
        let Query(params) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(Params(params))
    }
}

/// The one parameter of a route's path, decoded (400 if it is not UTF-8).
pub struct PathText(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(PathText(text))
    }
}
