//! The dashboard: one page and its files, embedded in the binary (http/dashboard,
//! and uPlot from npm, see build.rs). The page asks for a reader token and
//! reads the JSON routes with it; serving it needs no token, since it holds no
//! data.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::error::ApiError;

macro_rules! dashboard_file {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard/", $path))
    };
}

const PAGE: &[u8] = dashboard_file!("index.html");

/// The files the page loads, by the name it loads them under.
const FILES: [(&str, &str, &[u8]); 5] = [
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        dashboard_file!("dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        dashboard_file!("dashboard.css"),
    ),
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        dashboard_file!("node_modules/uplot/dist/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        dashboard_file!("node_modules/uplot/dist/uPlot.min.css"),
    ),
    (
        "uPlot.LICENSE",
        "text/plain; charset=utf-8",
        dashboard_file!("node_modules/uplot/LICENSE"),
    ),
];

/// Only this server's own files and routes, nothing inline, no frames: a value
/// that reached the page through a report (a name, say) cannot run there.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route(
            "/dashboard",
            get(|| async { file("text/html; charset=utf-8", PAGE) }),
        )
        .route("/dashboard/{name}", get(named))
        // Browsers ask for it on their own; there is none.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

async fn named(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, bytes)) => file(content_type, bytes),
        None => ApiError::not_found("no such file").into_response(),
    }
}

fn file(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
