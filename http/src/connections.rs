//! The open client connections: how many there may be, and how long each may
//! sit without a request under way.
//!
//! A connection is *idle* while no request of it is being handled: from its
//! opening (TLS handshake and request head included) until its first request's
//! head has been read, and between a response and the next request's head. An
//! idle connection is closed when it has been idle too long:
//! `header_timeout` for a new connection, `keepalive_timeout` after a response.
//! At `max_connections`, each new connection closes the one idle the longest, so
//! that clients which open connections and send nothing (or send a head byte by
//! byte) can never keep a real request out; only when every connection has a
//! request under way does the server stop accepting until one ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::settings::ConnectionLimits;

/// File descriptors kept for everything but client connections: the listener,
/// the log, the token and certificate files, the runtime's own, and the
/// connections asked to close that have not yet closed.
const SPARE_FILES: usize = 64;

/// Connections asked to close but not yet closed, at most, beyond the cap.
const CLOSING_AT_MOST: usize = 16;

/// Why the server closed a connection itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// No complete request head within `header_timeout` of opening.
    HeaderTimeout,
    /// Idle for `keepalive_timeout` after a response.
    KeepaliveTimeout,
    /// Idle the longest when a new connection came at `max_connections`.
    Evicted,
    /// The server is stopping.
    Shutdown,
}

impl Closed {
    pub const ALL: [Closed; 4] = [
        Closed::HeaderTimeout,
        Closed::KeepaliveTimeout,
        Closed::Evicted,
        Closed::Shutdown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Closed::HeaderTimeout => "header_timeout",
            Closed::KeepaliveTimeout => "keepalive_timeout",
            Closed::Evicted => "evicted",
            Closed::Shutdown => "shutdown",
        }
    }
}

/// One client connection's state, shared by its task, its requests and the
/// accept loop.
pub struct Connection {
    id: u64,
    opened: Instant,
    /// Requests under way (HTTP/1.1 handles one at a time, so 0 or 1).
    busy: AtomicU64,
    /// Requests started so far.
    served: AtomicU64,
    /// When the last request ended, in milliseconds after `opened`.
    idle_since_ms: AtomicU64,
    /// Asked to close: by the accept loop (evicted) or the shutdown.
    closing: AtomicBool,
    evicted: AtomicBool,
    shutdown: AtomicBool,
    /// Any change of the above, for the connection's supervisor.
    changed: Notify,
}

/// Marks a request of a connection as under way for as long as it lives.
pub struct RequestUnderWay(Arc<Connection>);

impl Drop for RequestUnderWay {
    fn drop(&mut self) {
        let connection = &self.0;
        let since = connection.opened.elapsed().as_millis() as u64;
        connection.idle_since_ms.store(since, Ordering::SeqCst);
        connection.busy.fetch_sub(1, Ordering::SeqCst);
        connection.changed.notify_one();
    }
}

/// What the supervisor of a connection decided.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Closed,
    /// Let it finish writing what it writes, then close it (HTTP's graceful
    /// close); otherwise close it at once: it never had a request, so no answer
    /// can be cut short.
    pub finish_first: bool,
}

impl Connection {
    pub fn request_started(self: &Arc<Self>) -> RequestUnderWay {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.served.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_one();
        RequestUnderWay(self.clone())
    }

    fn idle(&self) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
    }

    fn fresh(&self) -> bool {
        self.served.load(Ordering::SeqCst) == 0
    }

    /// When the connection, idle as it is now, is due to be closed.
    fn idle_deadline(&self, limits: &ConnectionLimits) -> Instant {
        if self.fresh() {
            self.opened + limits.header_timeout
        } else {
            let since = Duration::from_millis(self.idle_since_ms.load(Ordering::SeqCst));
            self.opened + since + limits.keepalive_timeout
        }
    }

    /// Waits until the connection must be closed, and says how. Returns only
    /// while it is idle; runs for as long as the connection lives otherwise.
    pub async fn supervise(&self, limits: &ConnectionLimits) -> Verdict {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the state is read, so that no change is missed.
            changed.as_mut().enable();
            if self.idle() {
                let reason = if self.shutdown.load(Ordering::SeqCst) {
                    Some(Closed::Shutdown)
                } else if self.evicted.load(Ordering::SeqCst) {
                    Some(Closed::Evicted)
                } else if Instant::now() >= self.idle_deadline(limits) {
                    Some(if self.fresh() {
                        Closed::HeaderTimeout
                    } else {
                        Closed::KeepaliveTimeout
                    })
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Verdict {
                        reason,
                        finish_first: !self.fresh(),
                    };
                }
                tokio::select! {
                    _ = tokio::time::sleep_until(self.idle_deadline(limits)) => {}
                    _ = &mut changed => {}
                }
            } else {
                changed.await;
            }
        }
    }
}

/// Every open connection, and the counts the metrics report.
pub struct Connections {
    limits: ConnectionLimits,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    next_id: AtomicU64,
    /// A connection ended: room for a new one.
    ended: Notify,
    closed_by_server: [AtomicU64; 4],
    accepted: AtomicU64,
}

/// Removes a connection from the registry when its task ends, however it ends.
pub struct Registered {
    connections: Arc<Connections>,
    pub connection: Arc<Connection>,
}

impl Registered {
    pub fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.connections
            .open
            .lock()
            .expect("connections lock")
            .remove(&self.connection.id);
        self.connections.ended.notify_waiters();
    }
}

impl Connections {
    pub fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Connections {
            limits,
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            ended: Notify::new(),
            closed_by_server: Default::default(),
            accepted: AtomicU64::new(0),
        })
    }

    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().expect("connections lock").len()
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn closed_by_server(&self, reason: Closed) -> u64 {
        self.closed_by_server[reason as usize].load(Ordering::Relaxed)
    }

    pub fn count_closed(&self, reason: Closed) {
        self.closed_by_server[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Open connections that are not already being closed.
    fn staying(open: &HashMap<u64, Arc<Connection>>) -> usize {
        open.values()
            .filter(|c| !c.closing.load(Ordering::SeqCst))
            .count()
    }

    /// Waits until a new connection may be accepted: below the cap, or at it
    /// with an idle connection to close for it; and, either way, while the
    /// connections already asked to close are few (each holds its file until
    /// its task has run).
    pub async fn room(&self) {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            {
                let open = self.open.lock().expect("connections lock");
                let staying = Self::staying(&open);
                let below_cap = staying < self.limits.max_connections;
                let evictable = || {
                    open.values()
                        .any(|c| c.idle() && !c.closing.load(Ordering::SeqCst))
                };
                if open.len() < self.limits.max_connections + CLOSING_AT_MOST
                    && (below_cap || evictable())
                {
                    return;
                }
            }
            ended.await;
        }
    }

    /// Records a connection just accepted; at the cap, asks the one idle the
    /// longest to close.
    pub fn register(self: &Arc<Self>) -> Registered {
        let mut open = self.open.lock().expect("connections lock");
        if Self::staying(&open) >= self.limits.max_connections {
            let now = Instant::now();
            let longest_idle = open
                .values()
                .filter(|c| c.idle() && !c.closing.load(Ordering::SeqCst))
                .max_by_key(|c| {
                    let since = if c.fresh() {
                        c.opened
                    } else {
                        c.opened + Duration::from_millis(c.idle_since_ms.load(Ordering::SeqCst))
                    };
                    now.saturating_duration_since(since)
                })
                .cloned();
            if let Some(victim) = longest_idle {
                victim.evicted.store(true, Ordering::SeqCst);
                victim.closing.store(true, Ordering::SeqCst);
                victim.changed.notify_one();
            }
        }
        let connection = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            opened: Instant::now(),
            busy: AtomicU64::new(0),
            served: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            changed: Notify::new(),
        });
        open.insert(connection.id, connection.clone());
        self.accepted.fetch_add(1, Ordering::Relaxed);
        Registered {
            connections: self.clone(),
            connection,
        }
    }

    /// Asks every connection to close: at once when idle, after its request
    /// otherwise.
    pub fn close_all(&self) {
        for connection in self.open.lock().expect("connections lock").values() {
            connection.shutdown.store(true, Ordering::SeqCst);
            connection.closing.store(true, Ordering::SeqCst);
            connection.changed.notify_one();
        }
    }

    /// Waits until every connection has ended.
    pub async fn all_ended(&self) {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.open() == 0 {
                return;
            }
            ended.await;
        }
    }
}

/// Raises the soft limit of open files to the hard one, as far as it goes, and
/// returns how many client connections fit in it beside `reserved` database
/// connections: `limits.max_connections` if they fit; if not, the most that do
/// when the setting was left at its default, and an error when it was set.
pub fn fit_to_file_limit(limits: &ConnectionLimits, reserved: usize) -> Result<usize, String> {
    let files = raise_file_limit()?;
    let room = files.saturating_sub(reserved + SPARE_FILES);
    if limits.max_connections <= room {
        return Ok(limits.max_connections);
    }
    let explanation = format!(
        "the open-file limit is {files}: {reserved} database connections and {SPARE_FILES} \
         files for the rest leave room for {room} client connections"
    );
    if limits.max_connections_set || room == 0 {
        return Err(format!(
            "USER_METRICS_HTTP_MAX_CONNECTIONS {}: {explanation}; raise the limit (ulimit -n, \
             LimitNOFILE=) or lower the setting",
            limits.max_connections
        ));
    }
    tracing::warn!(
        "at most {room} client connections instead of {}: {explanation}",
        limits.max_connections
    );
    Ok(room)
}

fn raise_file_limit() -> Result<usize, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(format!(
                "open-file limit: {}",
                std::io::Error::last_os_error()
            ));
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Ok(usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX))
}
