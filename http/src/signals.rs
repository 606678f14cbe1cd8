//! The signals the server answers: SIGHUP reads its files again, SIGTERM and
//! SIGINT stop it gracefully.

use std::future::Future;
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};

use crate::routes::AppState;
use crate::tls::Tls;

/// SIGHUP: read the token file and the certificate again. What fails to load
/// leaves what is in use as it was; requests under way are not touched. The
/// handler is in place when this returns (a SIGHUP before would end the
/// process); the future does the reloading.
pub fn reload_on_hangup(
    state: Arc<AppState>,
    tls: Option<Arc<Tls>>,
) -> Result<impl Future<Output = ()>, String> {
    let mut hangup = signal(SignalKind::hangup()).map_err(|e| format!("SIGHUP handler: {e}"))?;
    Ok(async move {
        while hangup.recv().await.is_some() {
            reload(&state, tls.as_deref());
        }
    })
}

fn reload(state: &AppState, tls: Option<&Tls>) {
    let reloaded = state.tokens.reload();
    state.metrics.reload("tokens", reloaded.is_ok());
    match reloaded {
        Ok(tokens) => {
            let roles = tokens.roles_with(&state.health_role);
            match state.pools.add_roles(&roles) {
                Ok(()) => tracing::info!(
                    "reloaded the token file: {} tokens, roles {}",
                    tokens.len(),
                    roles.join(", ")
                ),
                Err(e) => tracing::error!("reloaded the token file, but {e}"),
            }
        }
        Err(e) => {
            tracing::error!("the token file was not reloaded (the previous tokens stay): {e}")
        }
    }
    if let Some(tls) = tls {
        let reloaded = tls.reload();
        state.metrics.reload("certificate", reloaded.is_ok());
        match reloaded {
            Ok(()) => tracing::info!("reloaded the certificate and key"),
            Err(e) => {
                tracing::error!("the certificate was not reloaded (the previous one stays): {e}")
            }
        }
    }
}

/// SIGTERM (docker stop, systemd) or SIGINT (Ctrl-C): stop accepting, let the
/// requests under way finish, then exit. The handlers are in place when this
/// returns.
pub fn stop() -> Result<impl Future<Output = ()>, String> {
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutting down: finishing the requests under way");
    })
}
