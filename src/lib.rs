//! user_metrics: a PostgreSQL extension that ingests voice-app usage metrics and
//! reports on them.
//!
//! - `api/`: every SQL-callable function (`#[pg_extern]`) and nothing else;
//! - `ingest/`: one call of `ingest_metrics`, from payload to summary;
//! - `storage/`: every write to the tables (events, sessions, users, the
//!   quarantine, counters), set-based;
//! - `reports/`: the read-only report queries;
//! - `sql/`: running the SQL files of `sql/queries/` with typed rows;
//! - `error`, `elog`: the errors the functions raise and what the server log gets;
//! - `memory`: handing the memory of large calls back to the operating system;
//! - the event contract itself is the `user_metrics_contract` crate (`contract/`),
//!   plain Rust with no PostgreSQL in it;
//! - DDL and every query are SQL files under `sql/`.

use pgrx::prelude::*;

mod api;
mod elog;
mod error;
mod guards;
mod ingest;
mod memory;
mod reports;
mod sql;
mod storage;

::pgrx::pg_module_magic!(name, version);

/// Runs once per backend, when the library loads.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guards::register_settings();
}

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!("../sql/distribute.sql", name = "distribute");
extension_sql_file!(
    "../sql/after_functions.sql",
    name = "after_functions",
    finalize
);

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Required by `cargo pgrx test`: settings for the test cluster.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
