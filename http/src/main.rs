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
mod listen;
mod metrics;
mod queries;
mod requests;
mod routes;
mod server;
mod settings;
mod signals;
mod tls;
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
    let tokens = tokens::TokenFile::load(settings.tokens.clone())?;
    tokens::grant_of_role(&settings.health_role)
        .ok()
        .filter(|grant| grant.access == tokens::Access::Read)
        .ok_or_else(|| {
            format!(
                "USER_METRICS_HTTP_HEALTH_ROLE: {:?} is not a reader role (<prefix>_reader)",
                settings.health_role
            )
        })?;
    let tls = match &settings.tls {
        Some((certificate, key)) => {
            Some(Arc::new(tls::Tls::load(certificate.clone(), key.clone())?))
        }
        None => None,
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?
        .block_on(run(settings, tokens, tls))
}

async fn run(
    settings: settings::Settings,
    tokens: tokens::TokenFile,
    tls: Option<Arc<tls::Tls>>,
) -> Result<(), String> {
    let roles = tokens.current().roles_with(&settings.health_role);
    let pool_settings = db::PoolSettings {
        max_size: settings.pool_size,
        timeout: settings.timeout,
    };
    let pools = db::Pools::new(&settings.database, &roles, &pool_settings)?;
    let max_connections =
        connections::fit_to_file_limit(&settings.limits, settings.pool_size * roles.len())?;
    let connections = connections::Connections::new(settings::ConnectionLimits {
        max_connections,
        ..settings.limits
    });
    let state = Arc::new(routes::AppState {
        tokens,
        pools,
        connections: connections.clone(),
        metrics: metrics::Metrics::new(),
        timeout: settings.timeout,
        health_role: settings.health_role,
        body_limit: settings.body_limit,
        body_timeout: settings.limits.body_timeout,
    });
    let app = routes::router(state.clone()).layer(axum::middleware::from_fn_with_state(
        state.clone(),
        requests::deadline_and_log,
    ));
    let listener = listen::bind(&settings.listen, tls.is_some(), settings.allow_plain_http).await?;
    tracing::info!(
        "listening on {} ({}; roles {}, {} connections each at most; {max_connections} client connections at most)",
        settings.listen,
        if tls.is_some() { "HTTPS" } else { "plain HTTP" },
        roles.join(", "),
        settings.pool_size
    );
    tokio::spawn(signals::reload_on_hangup(state.clone(), tls.clone())?);
    let stop = signals::stop()?;
    server::serve(listener, app, connections.clone(), tls, stop).await;
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
