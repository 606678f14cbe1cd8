//! Accepting client connections and serving HTTP/1.1 on each, within the limits
//! of connections.rs, until the shutdown signal; then finishing the requests
//! under way.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::connections::{Connections, Registered};
use crate::tls::Tls;

/// How long a connection asked to close may take to finish writing its answer.
const FINISH_GRACE: Duration = Duration::from_secs(5);

/// Serves until `stop` resolves, then stops accepting, closes the idle
/// connections and waits for the others to finish their request.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    connections: Arc<Connections>,
    tls: Option<Arc<Tls>>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut last_accept_error: Option<tokio::time::Instant> = None;
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = async {
                connections.room().await;
                listener.accept().await
            } => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, most likely: say so once a second at
                // most, and give the connections under way time to end.
                if last_accept_error.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    tracing::warn!("accepting a connection: {e}");
                    last_accept_error = Some(tokio::time::Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let registered = connections.register();
        tokio::spawn(connection(stream, registered, app.clone(), tls.clone()));
    }
    drop(listener);
    connections.close_all();
    connections.all_ended().await;
}

async fn connection(stream: TcpStream, registered: Registered, app: Router, tls: Option<Arc<Tls>>) {
    // Answers are small and written whole: send them at once.
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        return serve_http(stream, &registered, app).await;
    };
    // The handshake counts as the wait for the first request's head.
    let connection = registered.connection.clone();
    let limits = *registered.connections().limits();
    let handshake = tls.acceptor().accept(stream);
    let stream = tokio::select! {
        done = handshake => match done {
            Ok(stream) => stream,
            Err(_) => return,
        },
        verdict = connection.supervise(&limits) => {
            registered.connections().count_closed(verdict.reason);
            return;
        }
    };
    serve_http(stream, &registered, app).await;
}

/// HTTP/1.1 on one connection, until the client or the server closes it.
async fn serve_http<I>(io: I, registered: &Registered, app: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = registered.connection.clone();
    let limits = *registered.connections().limits();
    let for_requests = connection.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let under_way = for_requests.request_started();
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(axum::body::Body::new)).await;
            drop(under_way);
            response
        }
    });
    let http = http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(http);
    let verdict = tokio::select! {
        _ = http.as_mut() => return,
        verdict = connection.supervise(&limits) => verdict,
    };
    registered.connections().count_closed(verdict.reason);
    if verdict.finish_first {
        http.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(FINISH_GRACE, http).await;
    }
}
