//! user-metrics-http: the HTTP API of the user_metrics extension (README, "HTTP API").
//!
//!   user-metrics-http                      serve, configured from the environment
//!   user-metrics-http token ROLE FILE      make a token for ROLE, append its hash to FILE
//!
//! Settings: settings.rs, and the README.

mod connections;
mod db;
mod error;
mod extract;
mod input;
mod queries;
mod requests;
mod routes;
mod server;
mod settings;
mod tokens;

use std::process::ExitCode;
use std::sync::Arc;

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
    let settings = settings::from_environment()?;
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

async fn run(
    settings: settings::Settings,
    tokens: tokens::Tokens,
    roles: Vec<String>,
) -> Result<(), String> {
    let pool_settings = db::PoolSettings {
        max_size: settings.pool_size,
        timeout: settings.timeout,
    };
    let pools = db::Pools::new(&settings.database, &roles, &pool_settings)?;
    let state = Arc::new(routes::AppState {
        tokens,
        pools,
        health_role: settings.health_role,
        body_limit: settings.body_limit,
        body_timeout: settings.limits.body_timeout,
    });
    let app = routes::router(state.clone()).layer(axum::middleware::from_fn_with_state(
        settings.timeout,
        requests::deadline_and_log,
    ));
    let max_connections =
        connections::fit_to_file_limit(&settings.limits, settings.pool_size * roles.len())?;
    let connections = connections::Connections::new(settings::ConnectionLimits {
        max_connections,
        ..settings.limits
    });
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| format!("USER_METRICS_HTTP_LISTEN {}: {e}", settings.listen))?;
    tracing::info!(
        "listening on {} (roles {}, {} connections each at most; {max_connections} client connections at most)",
        settings.listen,
        roles.join(", "),
        settings.pool_size
    );
    server::serve(listener, app, connections.clone(), shutdown_signal()).await;
    let closed: Vec<String> = connections::Closed::ALL
        .iter()
        .map(|&reason| format!("{} {}", reason.name(), connections.closed_by_server(reason)))
        .collect();
    tracing::info!(
        "{} connections served; closed by the server: {}",
        connections.accepted(),
        closed.join(", ")
    );
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
