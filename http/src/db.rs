//! The connections to PostgreSQL and the one statement each route runs.
//!
//! The server logs in as a role that can do nothing of its own (a LOGIN
//! `NOINHERIT` role granted `user_metrics_writer` and `user_metrics_reader`, see
//! README "HTTP API"). It keeps one bounded pool per role its tokens act as; each
//! connection of a pool runs as that role from its start (the `role` setting in
//! the startup packet, as `SET ROLE` would), so a request is one round trip, one
//! statement in its own transaction, and the database checks every right again.
//!
//! A request has a deadline, and a call is never given up once sent: the
//! server waits for its outcome and answers with it, so that an answer that
//! advises a retry (503) always means that nothing was stored. What keeps the
//! call within the deadline is PostgreSQL's `statement_timeout`, which gets the
//! time left.

use std::collections::HashMap;
use std::error::Error;
use std::str::FromStr;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, Timeouts,
};
use tokio::time::Instant;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

use crate::error::ApiError;
use crate::metrics::Histogram;

pub struct Pools {
    /// The login role's connection settings, without a role.
    base: tokio_postgres::Config,
    max_size: usize,
    by_role: RwLock<HashMap<String, Pool>>,
    /// How long requests waited for a connection, and how many got none, by role.
    waits: Mutex<HashMap<String, (Histogram, u64)>>,
    /// Each connection's own `statement_timeout`: what a call gets when it is
    /// sent at most `statement_slack(timeout)` after its request arrived.
    statement_timeout: Duration,
}

/// A pool's figures, for GET /metrics.
pub struct PoolFigures {
    pub role: String,
    pub in_use: usize,
    pub idle: usize,
    pub max: usize,
    pub waiting: usize,
    pub wait: Histogram,
    pub timeouts: u64,
}

pub struct PoolSettings {
    pub max_size: usize,
    /// The time limit of a request (USER_METRICS_HTTP_TIMEOUT_MS).
    pub timeout: Duration,
}

/// A call sent this soon after its request arrived runs with the connection's
/// own `statement_timeout`, the request's limit less this, which it cannot
/// overrun; one sent later gets the exact time left, with a `SET` sent ahead of
/// it in the same round trip.
fn statement_slack(timeout: Duration) -> Duration {
    (timeout / 10).min(Duration::from_millis(100))
}

impl Pools {
    pub fn new(conninfo: &str, roles: &[String], settings: &PoolSettings) -> Result<Self, String> {
        let base = tokio_postgres::Config::from_str(conninfo)
            .map_err(|e| format!("USER_METRICS_HTTP_DATABASE: {e}"))?;
        let pools = Pools {
            base,
            max_size: settings.max_size,
            by_role: RwLock::new(HashMap::new()),
            waits: Mutex::new(HashMap::new()),
            statement_timeout: settings.timeout - statement_slack(settings.timeout),
        };
        pools.add_roles(roles)?;
        Ok(pools)
    }

    /// Makes a pool for each role that has none yet (connections open as
    /// requests need them). Pools are never removed: a request under way may
    /// still use one whose tokens are gone.
    pub fn add_roles(&self, roles: &[String]) -> Result<(), String> {
        let mut by_role = self.by_role.write().expect("pools lock");
        for role in roles {
            if !by_role.contains_key(role) {
                by_role.insert(role.clone(), self.pool_for(role)?);
            }
        }
        Ok(())
    }

    fn pool_for(&self, role: &str) -> Result<Pool, String> {
        let mut config = self.base.clone();
        // Roles are checked names (tokens::grant_of_role): plain identifiers.
        // search_path: nothing but PostgreSQL's own names, whatever schemas
        // others create (queries.rs). TimeZone UTC: timestamps in the answers
        // and in query parameters without an offset mean the same whatever
        // the server's setting. Startup options outrank the settings of the
        // role and of the database.
        let options = format!(
            "{} -c role={role} -c search_path=pg_catalog,pg_temp -c TimeZone=UTC -c statement_timeout={}",
            config.get_options().unwrap_or(""),
            self.statement_timeout.as_millis()
        );
        config.options(options.trim());
        config.application_name("user-metrics-http");
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(self.max_size)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("connection pool for {role}: {e}"))
    }

    /// Runs one statement as `role` by `deadline` and returns the first column
    /// of its row, if any, as text (every statement here returns one JSON
    /// document). Before the statement is sent, reaching the deadline gives up
    /// (503, nothing done); once it is sent, its outcome is what is returned.
    pub async fn one(
        &self,
        role: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        deadline: Instant,
    ) -> Result<Option<String>, ApiError> {
        let pool = self
            .by_role
            .read()
            .expect("pools lock")
            .get(role)
            .cloned()
            .ok_or_else(|| ApiError::forbidden("no connection pool for this role"))?;
        let left = time_left(deadline)?;
        let timeouts = Timeouts {
            wait: Some(left),
            create: Some(left),
            recycle: Some(left),
        };
        let asked = Instant::now();
        let client = pool.timeout_get(&timeouts).await;
        self.count_wait(role, asked.elapsed(), client.is_err());
        let client = client.map_err(|e| match e {
            PoolError::Backend(e) => ApiError::from_database(&e),
            PoolError::Timeout(_) => ApiError::unavailable(
                "busy",
                "no database connection became free in time; try again",
            ),
            _ => ApiError::unavailable("database_unavailable", "the database did not answer"),
        })?;
        // Preparing runs nothing, so it may be given up.
        let statement = tokio::time::timeout_at(deadline, client.prepare_cached(sql))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| ApiError::from_database(&e))?;
        let left = time_left(deadline)?;
        let row = if left >= self.statement_timeout {
            client.query_opt(&statement, params).await
        } else {
            let (row, reset) = within(&client, left, client.query_opt(&statement, params)).await;
            if !reset {
                drop(Object::take(client));
            }
            row
        };
        row.map(|r| r.map(|r| r.get::<_, String>(0)))
            .map_err(|e| ApiError::from_call(&e))
    }

    fn count_wait(&self, role: &str, took: Duration, failed: bool) {
        let mut waits = self.waits.lock().expect("pools lock");
        let (histogram, failures) = waits.entry(role.to_owned()).or_default();
        histogram.observe(took);
        *failures += u64::from(failed);
    }

    /// Each pool's figures, by role.
    pub fn figures(&self) -> Vec<PoolFigures> {
        let waits = self.waits.lock().expect("pools lock");
        let mut figures: Vec<PoolFigures> = self
            .by_role
            .read()
            .expect("pools lock")
            .iter()
            .map(|(role, pool)| {
                let status = pool.status();
                let (wait, timeouts) = waits.get(role).cloned().unwrap_or_default();
                PoolFigures {
                    role: role.clone(),
                    in_use: status.size.saturating_sub(status.available),
                    idle: status.available,
                    max: status.max_size,
                    waiting: status.waiting,
                    wait,
                    timeouts,
                }
            })
            .collect();
        figures.sort_by(|a, b| a.role.cmp(&b.role));
        figures
    }

    pub fn close(&self) {
        for pool in self.by_role.read().expect("pools lock").values() {
            pool.close();
        }
    }
}

fn timed_out() -> ApiError {
    ApiError::unavailable(
        "timeout",
        "the request reached its time limit before its call was sent; nothing was done",
    )
}

fn time_left(deadline: Instant) -> Result<Duration, ApiError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left < Duration::from_millis(1) {
        return Err(timed_out());
    }
    Ok(left)
}

/// Runs `call` on `client` with `statement_timeout` set to `left` for it alone:
/// `SET`, the call and `RESET` are sent together, in this order (a future of
/// tokio-postgres sends its messages when first polled), and answered in one
/// round trip. Also says whether the `RESET` worked: if not, the connection
/// must not be used again.
async fn within<T>(
    client: &Object,
    left: Duration,
    call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> (Result<T, tokio_postgres::Error>, bool) {
    let set = format!("SET statement_timeout = {}", left.as_millis().max(1));
    let (_, result, reset) = tokio::join!(
        biased;
        client.batch_execute(&set),
        call,
        client.batch_execute("RESET statement_timeout"),
    );
    (result, reset.is_ok())
}

/// A JSON document sent to a `jsonb` parameter as the text the client sent,
/// byte for byte: PostgreSQL parses it, so numbers keep every digit (the
/// extension stores talked_time and voice_sentiment as the decimals sent).
#[derive(Debug)]
pub struct JsonbText<'a>(pub &'a str);

impl ToSql for JsonbText<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        // jsonb's binary input: a version byte (1), then the JSON text.
        out.put_u8(1);
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}
