//! Tests that run inside PostgreSQL (`cargo pgrx test`): ingestion and reports
//! through their SQL functions, checked against the tables and hand-worked numbers.

mod binary_json;
mod calendar;
mod counters_in_place;
mod data_safety;
mod duplicate_keys;
mod erasure;
mod guards;
mod ingest;
mod one_event_in_place;
mod reports;
mod result_rows;
mod slices;
mod statements;

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// Calls ingest_metrics through SQL, as a client would.
pub fn ingest(payload: &Value) -> Value {
    ingest_with(payload, "quarantine")
}

pub fn ingest_with(payload: &Value, on_error: &str) -> Value {
    Spi::get_one_with_args::<JsonB>(
        "SELECT user_metrics.ingest_metrics($1::text::jsonb, $2)",
        &[payload.to_string().into(), on_error.into()],
    )
    .expect("ingest_metrics failed")
    .expect("ingest_metrics returned NULL")
    .0
}

/// Runs `sql` and returns "SQLSTATE: message" of the error it raises, or None.
/// The statement runs in a subtransaction, so whatever it did is rolled back.
pub fn error_of(sql: &str) -> Option<String> {
    Spi::run(
        "CREATE OR REPLACE FUNCTION pg_temp.error_of(sql text) RETURNS text
         LANGUAGE plpgsql AS $$
         BEGIN
             EXECUTE sql;
             RETURN NULL;
         EXCEPTION WHEN OTHERS THEN
             RETURN SQLSTATE || ': ' || SQLERRM;
         END $$",
    )
    .unwrap();
    Spi::get_one_with_args::<String>("SELECT pg_temp.error_of($1)", &[sql.into()]).unwrap()
}

/// The text of a one-row, one-column query's value (None for NULL).
pub fn text(sql: &str) -> Option<String> {
    Spi::get_one::<String>(sql).unwrap()
}

pub fn count(sql: &str) -> i64 {
    Spi::get_one::<i64>(sql).unwrap().unwrap()
}

/// A valid event; tests change what they need.
pub fn event(event_id: &str, email: &str, session: &str, started_at: &str, talked: f64) -> Value {
    serde_json::json!({
        "event_id": event_id,
        "user": { "email": email },
        "session": { "id": session, "started_at": started_at },
        "metrics": { "talked_time": talked }
    })
}
