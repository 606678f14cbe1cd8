//! The server's settings, from the environment (README, "HTTP API"). A setting
//! that is set but not valid stops the server at start with a message naming it.

use std::path::PathBuf;
use std::time::Duration;

pub struct Settings {
    pub database: String,
    pub tokens: PathBuf,
    pub listen: String,
    pub pool_size: usize,
    pub body_limit: usize,
    /// From the arrival of a request's head to its answer: reading the body,
    /// waiting for a connection and the call.
    pub timeout: Duration,
    pub health_role: String,
    pub limits: ConnectionLimits,
    /// The certificate chain and the private key, PEM: HTTPS when set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Plain HTTP on an address that is not loopback.
    pub allow_plain_http: bool,
}

/// What one client connection may take of the server.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// A new connection must have sent its first request's head within this.
    pub header_timeout: Duration,
    /// A request's body must have arrived within this of its head.
    pub body_timeout: Duration,
    /// A connection idle after a response is closed after this.
    pub keepalive_timeout: Duration,
    /// Open connections at most; beyond it, the one idle the longest is closed.
    pub max_connections: usize,
    /// Whether `max_connections` was set, rather than the default.
    pub max_connections_set: bool,
}

pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number(name: &str, default: u64) -> Result<u64, String> {
    match setting(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name}: expected a positive whole number, got {v:?}")),
    }
}

fn millis(name: &str, default: u64) -> Result<Duration, String> {
    number(name, default).map(Duration::from_millis)
}

fn yes_or_no(name: &str) -> Result<bool, String> {
    match setting(name).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(v) => Err(format!("{name}: expected true or false, got {v:?}")),
    }
}

fn tls() -> Result<Option<(PathBuf, PathBuf)>, String> {
    let certificate = setting("USER_METRICS_HTTP_TLS_CERT").map(PathBuf::from);
    let key = setting("USER_METRICS_HTTP_TLS_KEY").map(PathBuf::from);
    match (certificate, key) {
        (Some(certificate), Some(key)) => Ok(Some((certificate, key))),
        (None, None) => Ok(None),
        _ => Err(
            "USER_METRICS_HTTP_TLS_CERT and USER_METRICS_HTTP_TLS_KEY go together: set both or neither"
                .to_owned(),
        ),
    }
}

pub fn from_environment() -> Result<Settings, String> {
    let required = |name: &str| setting(name).ok_or_else(|| format!("{name} is not set"));
    Ok(Settings {
        database: required("USER_METRICS_HTTP_DATABASE")?,
        tokens: PathBuf::from(required("USER_METRICS_HTTP_TOKENS")?),
        listen: setting("USER_METRICS_HTTP_LISTEN").unwrap_or_else(|| "127.0.0.1:5001".to_owned()),
        pool_size: number("USER_METRICS_HTTP_POOL_SIZE", 16)? as usize,
        body_limit: number("USER_METRICS_HTTP_BODY_LIMIT", 16 * 1024 * 1024)? as usize,
        timeout: millis("USER_METRICS_HTTP_TIMEOUT_MS", 30_000)?,
        health_role: setting("USER_METRICS_HTTP_HEALTH_ROLE")
            .unwrap_or_else(|| "user_metrics_reader".to_owned()),
        limits: ConnectionLimits {
            header_timeout: millis("USER_METRICS_HTTP_HEADER_TIMEOUT_MS", 10_000)?,
            body_timeout: millis("USER_METRICS_HTTP_BODY_TIMEOUT_MS", 10_000)?,
            keepalive_timeout: millis("USER_METRICS_HTTP_KEEPALIVE_TIMEOUT_MS", 75_000)?,
            max_connections: number(
                "USER_METRICS_HTTP_MAX_CONNECTIONS",
                DEFAULT_MAX_CONNECTIONS as u64,
            )? as usize,
            max_connections_set: setting("USER_METRICS_HTTP_MAX_CONNECTIONS").is_some(),
        },
        tls: tls()?,
        allow_plain_http: yes_or_no("USER_METRICS_HTTP_ALLOW_PLAIN_HTTP")?,
    })
}
