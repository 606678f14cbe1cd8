//! The listening socket. Plain HTTP carries the bearer tokens and every e-mail
//! of the reports in clear, so it is served on loopback addresses only, unless
//! USER_METRICS_HTTP_ALLOW_PLAIN_HTTP says that something else (a proxy that
//! terminates TLS, a private network) protects the traffic.

use std::net::SocketAddr;

use tokio::net::TcpListener;

pub async fn bind(listen: &str, tls: bool, allow_plain_http: bool) -> Result<TcpListener, String> {
    let named = |e: &dyn std::fmt::Display| format!("USER_METRICS_HTTP_LISTEN {listen}: {e}");
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| named(&e))?
        .collect();
    if !tls && !allow_plain_http {
        if let Some(open) = addresses.iter().find(|a| !a.ip().is_loopback()) {
            return Err(named(&format_args!(
                "{} is not a loopback address, and plain HTTP would carry the tokens and the \
                 reports in clear: set USER_METRICS_HTTP_TLS_CERT and USER_METRICS_HTTP_TLS_KEY, \
                 or USER_METRICS_HTTP_ALLOW_PLAIN_HTTP=true if a proxy in front terminates TLS",
                open.ip()
            )));
        }
    }
    TcpListener::bind(addresses.as_slice())
        .await
        .map_err(|e| named(&e))
}
