//! `GET /metrics`: the server's figures and its database's, in Prometheus' text
//! format (version 0.0.4). Counts and times only: no e-mail, name, token or
//! payload is ever a label or a value.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::connections::{Closed, Connections};
use crate::db::PoolFigures;
use crate::tokens::{Access, Tokens};

/// Upper bounds of the time histograms, in seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A Prometheus histogram of durations.
#[derive(Clone, Default)]
pub struct Histogram {
    /// Per bucket of BUCKETS (not cumulative), then the count beyond the last.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.counts[bucket] += 1;
        self.sum += seconds;
    }
}

/// What the server counts as it runs.
pub struct Metrics {
    started: SystemTime,
    /// Requests by (method, route template, status).
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// Time to answer, by route template.
    durations: Mutex<BTreeMap<String, Histogram>>,
    /// SIGHUP reloads by (file, result).
    reloads: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            started: SystemTime::now(),
            requests: Mutex::new(BTreeMap::new()),
            durations: Mutex::new(BTreeMap::new()),
            reloads: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        self.durations
            .lock()
            .expect("metrics lock")
            .entry(route.to_owned())
            .or_default()
            .observe(took);
    }

    /// A reload of `file` ("tokens" or "certificate") that worked or not.
    pub fn reload(&self, file: &'static str, worked: bool) {
        let result = if worked { "ok" } else { "error" };
        *self
            .reloads
            .lock()
            .expect("metrics lock")
            .entry((file, result))
            .or_default() += 1;
    }
}

/// Everything `GET /metrics` shows, gathered for one answer.
pub struct Snapshot<'a> {
    pub metrics: &'a Metrics,
    pub connections: &'a Connections,
    pub pools: Vec<PoolFigures>,
    pub tokens: &'a Tokens,
    /// What the database said (`queries::METRICS`), or None if it did not answer.
    pub database: Option<Value>,
}

/// Text in Prometheus' exposition format, one family at a time.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(self.0, "{label}=\"{escaped}\"");
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], histogram: &Histogram) {
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
            cumulative += count;
            let le = bound.to_string();
            let with_le: Vec<(&str, &str)> = labels
                .iter()
                .copied()
                .chain([("le", le.as_str())])
                .collect();
            self.sample(&format!("{name}_bucket"), &with_le, cumulative as f64);
        }
        cumulative += histogram.counts[BUCKETS.len()];
        let with_le: Vec<(&str, &str)> = labels.iter().copied().chain([("le", "+Inf")]).collect();
        self.sample(&format!("{name}_bucket"), &with_le, cumulative as f64);
        self.sample(&format!("{name}_sum"), labels, histogram.sum);
        self.sample(&format!("{name}_count"), labels, cumulative as f64);
    }
}

fn seconds_since_epoch(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

pub fn render(snapshot: &Snapshot) -> String {
    let mut out = Exposition(String::new());
    server(&mut out, snapshot);
    connections(&mut out, snapshot.connections);
    pools(&mut out, &snapshot.pools);
    database(&mut out, snapshot.database.as_ref());
    out.0
}

fn server(out: &mut Exposition, snapshot: &Snapshot) {
    let metrics = snapshot.metrics;
    out.family("user_metrics_http_info", "gauge", "The server's version.");
    out.sample(
        "user_metrics_http_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    out.family(
        "user_metrics_http_start_time_seconds",
        "gauge",
        "When the server started, in seconds since the Unix epoch.",
    );
    out.sample(
        "user_metrics_http_start_time_seconds",
        &[],
        seconds_since_epoch(metrics.started),
    );

    out.family(
        "user_metrics_http_requests_total",
        "counter",
        "Requests answered, by method, route template and status.",
    );
    for ((method, route, status), count) in metrics.requests.lock().expect("metrics lock").iter() {
        let status = status.to_string();
        out.sample(
            "user_metrics_http_requests_total",
            &[("method", method), ("route", route), ("status", &status)],
            *count as f64,
        );
    }
    out.family(
        "user_metrics_http_request_duration_seconds",
        "histogram",
        "Time from a request's head to its answer, by route template.",
    );
    for (route, histogram) in metrics.durations.lock().expect("metrics lock").iter() {
        out.histogram(
            "user_metrics_http_request_duration_seconds",
            &[("route", route)],
            histogram,
        );
    }

    out.family(
        "user_metrics_http_reloads_total",
        "counter",
        "SIGHUP reloads of the token file and the certificate, by file and result.",
    );
    for ((file, result), count) in metrics.reloads.lock().expect("metrics lock").iter() {
        out.sample(
            "user_metrics_http_reloads_total",
            &[("file", file), ("result", result)],
            *count as f64,
        );
    }
    out.family(
        "user_metrics_http_tokens",
        "gauge",
        "Tokens in the token file now, by what they may do.",
    );
    for (access, name) in [
        (Access::Write, "write"),
        (Access::Read, "read"),
        (Access::Metrics, "metrics"),
    ] {
        out.sample(
            "user_metrics_http_tokens",
            &[("access", name)],
            snapshot.tokens.count(access) as f64,
        );
    }
}

fn connections(out: &mut Exposition, connections: &Connections) {
    out.family(
        "user_metrics_http_connections_open",
        "gauge",
        "Client connections open now.",
    );
    out.sample(
        "user_metrics_http_connections_open",
        &[],
        connections.open() as f64,
    );
    out.family(
        "user_metrics_http_connections_max",
        "gauge",
        "Client connections open at most (USER_METRICS_HTTP_MAX_CONNECTIONS, fitted to the open-file limit).",
    );
    out.sample(
        "user_metrics_http_connections_max",
        &[],
        connections.limits().max_connections as f64,
    );
    out.family(
        "user_metrics_http_connections_accepted_total",
        "counter",
        "Client connections accepted.",
    );
    out.sample(
        "user_metrics_http_connections_accepted_total",
        &[],
        connections.accepted() as f64,
    );
    out.family(
        "user_metrics_http_connections_closed_total",
        "counter",
        "Client connections the server closed itself, by reason.",
    );
    for reason in Closed::ALL {
        out.sample(
            "user_metrics_http_connections_closed_total",
            &[("reason", reason.name())],
            connections.closed_by_server(reason) as f64,
        );
    }
}

fn pools(out: &mut Exposition, pools: &[PoolFigures]) {
    out.family(
        "user_metrics_http_pool_connections",
        "gauge",
        "Database connections of each role's pool, in use or idle.",
    );
    for pool in pools {
        out.sample(
            "user_metrics_http_pool_connections",
            &[("role", &pool.role), ("state", "in_use")],
            pool.in_use as f64,
        );
        out.sample(
            "user_metrics_http_pool_connections",
            &[("role", &pool.role), ("state", "idle")],
            pool.idle as f64,
        );
    }
    out.family(
        "user_metrics_http_pool_max_connections",
        "gauge",
        "Database connections of each role's pool at most.",
    );
    for pool in pools {
        out.sample(
            "user_metrics_http_pool_max_connections",
            &[("role", &pool.role)],
            pool.max as f64,
        );
    }
    out.family(
        "user_metrics_http_pool_waiting",
        "gauge",
        "Requests waiting for a database connection now.",
    );
    for pool in pools {
        out.sample(
            "user_metrics_http_pool_waiting",
            &[("role", &pool.role)],
            pool.waiting as f64,
        );
    }
    out.family(
        "user_metrics_http_pool_wait_seconds",
        "histogram",
        "Time requests waited for a database connection, by role.",
    );
    for pool in pools {
        out.histogram(
            "user_metrics_http_pool_wait_seconds",
            &[("role", &pool.role)],
            &pool.wait,
        );
    }
    out.family(
        "user_metrics_http_pool_timeouts_total",
        "counter",
        "Requests that got no database connection in time (503 busy), by role.",
    );
    for pool in pools {
        out.sample(
            "user_metrics_http_pool_timeouts_total",
            &[("role", &pool.role)],
            pool.timeouts as f64,
        );
    }
}

/// A number of the database's document, by its path.
fn number(document: &Value, path: &[&str]) -> Option<f64> {
    path.iter()
        .try_fold(document, |value, key| value.get(key))?
        .as_f64()
}

fn database(out: &mut Exposition, figures: Option<&Value>) {
    out.family(
        "user_metrics_database_up",
        "gauge",
        "1 if the database answered this scrape and its health() said ok, 0 otherwise.",
    );
    let ok = figures.is_some_and(|f| f["health"]["status"] == "ok");
    out.sample("user_metrics_database_up", &[], if ok { 1.0 } else { 0.0 });
    let Some(figures) = figures else {
        return;
    };
    if let Some(version) = figures["health"]["version"].as_str() {
        out.family(
            "user_metrics_extension_info",
            "gauge",
            "The extension's version in the database.",
        );
        out.sample("user_metrics_extension_info", &[("version", version)], 1.0);
    }
    for (key, name, help) in [
        ("users", "user_metrics_users", "Users stored (health())."),
        (
            "sessions",
            "user_metrics_sessions",
            "Sessions stored (health()).",
        ),
        ("events", "user_metrics_events", "Events stored (health())."),
        (
            "rejected",
            "user_metrics_rejected_events",
            "Events in the quarantine (health()).",
        ),
    ] {
        if let Some(value) = number(figures, &["health", key]) {
            out.family(name, "gauge", help);
            out.sample(name, &[], value);
        }
    }
    if let Some(at) = number(figures, &["last_received_seconds"]) {
        out.family(
            "user_metrics_last_received_timestamp_seconds",
            "gauge",
            "When events were last stored, in seconds since the Unix epoch (health()).",
        );
        out.sample("user_metrics_last_received_timestamp_seconds", &[], at);
    }
    out.family(
        "user_metrics_ingest_calls_total",
        "counter",
        "Calls of ingest_metrics (ingest_stats).",
    );
    out.sample(
        "user_metrics_ingest_calls_total",
        &[],
        number(figures, &["ingest", "calls"]).unwrap_or(0.0),
    );
    out.family(
        "user_metrics_ingest_events_total",
        "counter",
        "Events sent to ingest_metrics, by outcome (ingest_stats).",
    );
    for (key, outcome) in [
        ("accepted", "accepted"),
        ("duplicates", "duplicate"),
        ("rejected", "rejected"),
    ] {
        out.sample(
            "user_metrics_ingest_events_total",
            &[("outcome", outcome)],
            number(figures, &["ingest", key]).unwrap_or(0.0),
        );
    }
    out.family(
        "user_metrics_ingest_rejected_total",
        "counter",
        "Events ingest_metrics refused, by error code (ingest_stats).",
    );
    if let Some(codes) = figures["rejected_by_code"].as_object() {
        for (code, count) in codes {
            out.sample(
                "user_metrics_ingest_rejected_total",
                &[("code", code)],
                count.as_f64().unwrap_or(0.0),
            );
        }
    }
    out.family(
        "user_metrics_ingest_seconds_total",
        "counter",
        "Time spent in ingest_metrics calls (ingest_stats).",
    );
    out.sample(
        "user_metrics_ingest_seconds_total",
        &[],
        number(figures, &["ingest", "seconds"]).unwrap_or(0.0),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition(String::new());
        out.sample("m", &[("a", "x\"y\\z\nw"), ("b", "2")], 1.5);
        assert_eq!(out.0, "m{a=\"x\\\"y\\\\z\\nw\",b=\"2\"} 1.5\n");
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_the_count() {
        let mut histogram = Histogram::default();
        for millis in [0, 3, 3, 40, 60_000] {
            histogram.observe(Duration::from_millis(millis));
        }
        let mut out = Exposition(String::new());
        out.histogram("h", &[("route", "/x")], &histogram);
        let buckets: Vec<&str> = out
            .0
            .lines()
            .filter(|l| l.starts_with("h_bucket"))
            .collect();
        assert_eq!(buckets.len(), BUCKETS.len() + 1);
        assert_eq!(buckets[0], "h_bucket{route=\"/x\",le=\"0.001\"} 1");
        assert_eq!(buckets[2], "h_bucket{route=\"/x\",le=\"0.005\"} 3");
        assert_eq!(buckets[5], "h_bucket{route=\"/x\",le=\"0.05\"} 4");
        assert_eq!(
            buckets[BUCKETS.len() - 1],
            "h_bucket{route=\"/x\",le=\"30\"} 4"
        );
        assert_eq!(
            buckets[BUCKETS.len()],
            "h_bucket{route=\"/x\",le=\"+Inf\"} 5"
        );
        assert!(out.0.contains("h_count{route=\"/x\"} 5\n"));
        assert!(out.0.contains("h_sum{route=\"/x\"} 60.046\n"));
    }
}
