//! The connections to PostgreSQL and the one statement each route runs.
//!
//! The server logs in as a role that can do nothing of its own (a LOGIN
//! `NOINHERIT` role granted `user_metrics_writer` and `user_metrics_reader`, see
//! README "HTTP API"). It keeps one bounded pool per role its tokens act as; each
//! connection of a pool runs as that role from its start (the `role` setting in
//! the startup packet, as `SET ROLE` would), so a request is one round trip, one
//! statement in its own transaction, and the database checks every right again.

use std::collections::HashMap;
use std::error::Error;
use std::str::FromStr;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

use crate::error::ApiError;

pub struct Pools {
    by_role: HashMap<String, Pool>,
}

pub struct PoolSettings {
    pub max_size: usize,
    /// How long a request waits for a free connection, and a statement may run.
    pub timeout: Duration,
}

impl Pools {
    pub fn new(conninfo: &str, roles: &[String], settings: &PoolSettings) -> Result<Self, String> {
        let base = tokio_postgres::Config::from_str(conninfo)
            .map_err(|e| format!("USER_METRICS_HTTP_DATABASE: {e}"))?;
        let mut by_role = HashMap::new();
        for role in roles {
            let mut config = base.clone();
            // Roles are checked names (tokens::grant_of_role): plain identifiers.
            // search_path: nothing but PostgreSQL's own names, whatever schemas
            // others create (queries.rs). TimeZone UTC: timestamps in the answers
            // and in query parameters without an offset mean the same whatever
            // the server's setting. Startup options outrank the settings of the
            // role and of the database.
            let options = format!(
                "{} -c role={role} -c search_path=pg_catalog,pg_temp -c TimeZone=UTC -c statement_timeout={}",
                config.get_options().unwrap_or(""),
                settings.timeout.as_millis()
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
            let pool = Pool::builder(manager)
                .max_size(settings.max_size)
                .runtime(Runtime::Tokio1)
                .wait_timeout(Some(settings.timeout))
                .create_timeout(Some(settings.timeout))
                .build()
                .map_err(|e| format!("connection pool for {role}: {e}"))?;
            by_role.insert(role.clone(), pool);
        }
        Ok(Pools { by_role })
    }

    /// Runs one statement as `role` and returns the first column of its row, if
    /// any, as text (every statement here returns one JSON document).
    pub async fn one(
        &self,
        role: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<String>, ApiError> {
        let pool = self
            .by_role
            .get(role)
            .ok_or_else(|| ApiError::forbidden("no connection pool for this role"))?;
        let client = pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => ApiError::from_database(&e),
            PoolError::Timeout(_) => ApiError::unavailable(
                "busy",
                "no database connection became free in time; try again",
            ),
            _ => ApiError::unavailable("database_unavailable", "the database did not answer"),
        })?;
        let statement = client
            .prepare_cached(sql)
            .await
            .map_err(|e| ApiError::from_database(&e))?;
        let row = client
            .query_opt(&statement, params)
            .await
            .map_err(|e| ApiError::from_database(&e))?;
        Ok(row.map(|r| r.get::<_, String>(0)))
    }

    pub fn close(&self) {
        for pool in self.by_role.values() {
            pool.close();
        }
    }
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
