//! user-metrics-http: the HTTP API of the user_metrics extension (README, "HTTP API").
//!
//!   user-metrics-http                      serve, configured from the environment
//!   user-metrics-http token ROLE FILE      make a token for ROLE, append its hash to FILE
//!
//! Settings (environment):
//!   USER_METRICS_HTTP_DATABASE     libpq-style connection string (required)
//!   USER_METRICS_HTTP_TOKENS       token file (required)
//!   USER_METRICS_HTTP_LISTEN       address to listen on, default 127.0.0.1:5001
//!   USER_METRICS_HTTP_POOL_SIZE    connections per role, default 16
//!   USER_METRICS_HTTP_BODY_LIMIT   largest request body in bytes, default 16 MiB
//!   USER_METRICS_HTTP_TIMEOUT_MS   time limit of a request, default 30000
//!   USER_METRICS_HTTP_HEALTH_ROLE  role of GET /health without a token, default user_metrics_reader

mod db;
mod error;
mod queries;
mod requests;
mod routes;
mod tokens;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;

struct Settings {
    database: String,
    tokens: PathBuf,
    listen: String,
    pool_size: usize,
    body_limit: usize,
    timeout: Duration,
    health_role: String,
}

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

fn settings() -> Result<Settings, String> {
    let required = |name: &str| setting(name).ok_or_else(|| format!("{name} is not set"));
    Ok(Settings {
        database: required("USER_METRICS_HTTP_DATABASE")?,
        tokens: PathBuf::from(required("USER_METRICS_HTTP_TOKENS")?),
        listen: setting("USER_METRICS_HTTP_LISTEN").unwrap_or_else(|| "127.0.0.1:5001".to_owned()),
        pool_size: number("USER_METRICS_HTTP_POOL_SIZE", 16)? as usize,
        body_limit: number("USER_METRICS_HTTP_BODY_LIMIT", 16 * 1024 * 1024)? as usize,
        timeout: Duration::from_millis(number("USER_METRICS_HTTP_TIMEOUT_MS", 30_000)?),
        health_role: setting("USER_METRICS_HTTP_HEALTH_ROLE")
            .unwrap_or_else(|| "user_metrics_reader".to_owned()),
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => serve(),
        [command, role, file] if command == "token" => {
            tokens::create(role, std::path::Path::new(file)).map(|token| println!("{token}"))
        }
        _ => Err("usage: user-metrics-http [token ROLE FILE]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("user-metrics-http: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let settings = settings()?;
    let tokens = tokens::load(&settings.tokens)?;
    tokens::grant_of_role(&settings.health_role)
        .map_err(|e| format!("USER_METRICS_HTTP_HEALTH_ROLE: {e}"))?;
    let mut roles = tokens.roles();
    roles.push(settings.health_role.clone());
    roles.sort();
    roles.dedup();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?
        .block_on(run(settings, tokens, roles))
}

async fn run(settings: Settings, tokens: tokens::Tokens, roles: Vec<String>) -> Result<(), String> {
    let pool_settings = db::PoolSettings {
        max_size: settings.pool_size,
        timeout: settings.timeout,
    };
    let pools = db::Pools::new(&settings.database, &roles, &pool_settings)?;
    let state = Arc::new(routes::AppState {
        tokens,
        pools,
        health_role: settings.health_role,
    });
    let app = routes::router(state.clone())
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            settings.timeout,
            requests::limit_and_log,
        ));
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| format!("USER_METRICS_HTTP_LISTEN {}: {e}", settings.listen))?;
    tracing::info!(
        "listening on {} (roles {}, {} connections each at most)",
        settings.listen,
        roles.join(", "),
        settings.pool_size
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server: {e}"))?;
    state.pools.close();
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (docker stop, systemd) or SIGINT (Ctrl-C): stop accepting, let the
/// requests under way finish, then exit.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down: finishing the requests under way");
}
