//! user_metrics from Rust with tokio-postgres: ingest a batch, read its summary,
//! catch an invalid event in raise mode, retry what is safe to retry, print a report.
//!
//!     USER_METRICS_DSN=postgresql://metrics_app:secret@127.0.0.1:5432/metrics cargo run

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Error, NoTls};

/// Deadlock, serialization failure, lock timeout: PostgreSQL rolled the whole
/// transaction back, so running it again is safe. ingest_metrics is idempotent
/// per event_id: an event the first attempt did store counts as a duplicate.
const RETRYABLE: [SqlState; 3] = [
    SqlState::T_R_DEADLOCK_DETECTED,
    SqlState::T_R_SERIALIZATION_FAILURE,
    SqlState::LOCK_NOT_AVAILABLE,
];
const ATTEMPTS: u32 = 5;

/// One ingest_metrics call in its own transaction, retried on the codes above.
async fn ingest(client: &mut Client, events: &Value, on_error: &str) -> Result<Value, Error> {
    let mut attempt = 1;
    loop {
        let result: Result<Value, Error> = async {
            let tx = client.transaction().await?;
            // The batch goes as a jsonb parameter, never spliced into the SQL.
            let row = tx
                .query_one(
                    "SELECT user_metrics.ingest_metrics($1, $2)",
                    &[events, &on_error],
                )
                .await?;
            tx.commit().await?;
            Ok(row.get(0))
        }
        .await;
        match result {
            Err(e) if attempt < ATTEMPTS && e.code().is_some_and(|c| RETRYABLE.contains(c)) => {
                // Exponential backoff with jitter (from the clock, to need no
                // random crate), so that the two sides of a deadlock do not
                // collide again.
                let ceiling = 50u64 << attempt;
                let nanos = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_nanos()));
                tokio::time::sleep(Duration::from_millis(nanos % ceiling)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::var("USER_METRICS_EVENTS")
        .unwrap_or_else(|_| "../../sample/events.json".to_owned());
    let events: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;

    let dsn = std::env::var("USER_METRICS_DSN").map_err(|_| "USER_METRICS_DSN is not set")?;
    let (mut client, connection) = tokio_postgres::connect(&dsn, NoTls).await?;
    // The connection does the socket I/O; it runs until the client is dropped.
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection error: {e}");
        }
    });

    let summary = ingest(&mut client, &events, "quarantine").await?;
    println!(
        "summary: accepted={} duplicates={} rejected={}",
        summary["accepted"], summary["duplicates"], summary["rejected"]
    );
    for e in summary["errors"].as_array().into_iter().flatten() {
        println!(
            "error: index={} code={} message={}",
            e["index"],
            e["code"].as_str().unwrap_or_default(),
            e["message"].as_str().unwrap_or_default()
        );
    }

    // One valid event and one with a negative talked_time: in raise mode the call
    // fails at index 1 and stores neither.
    let bad_batch = json!([
        {"event_id": "raise-1", "user": {"email": "eve@example.com"},
         "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"},
         "metrics": {"talked_time": 10}},
        {"event_id": "raise-2", "user": {"email": "eve@example.com"},
         "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"},
         "metrics": {"talked_time": -5}}
    ]);
    match ingest(&mut client, &bad_batch, "raise").await {
        Ok(_) => return Err("raise mode accepted an invalid event".into()),
        Err(e) if e.code() == Some(&SqlState::INVALID_PARAMETER_VALUE) => {
            let db = e.as_db_error().ok_or("22023 without a server error")?;
            println!(
                "raise: sqlstate={} message={}",
                db.code().code(),
                db.message()
            );
            println!("detail: {}", db.detail().unwrap_or_default());
        }
        Err(e) => return Err(e.into()),
    }

    // numeric read as its text: exact, with the digits PostgreSQL prints (the
    // rust_decimal crate can read it as a decimal instead).
    let report = client
        .query(
            "SELECT email, session_count, total_talked_time::text \
             FROM user_metrics.aggregate_user_metrics()",
            &[],
        )
        .await?;
    for row in report {
        let (email, sessions, talked_time): (&str, i64, &str) =
            (row.get(0), row.get(1), row.get(2));
        println!("report: {email} sessions={sessions} talked_time={talked_time}");
    }
    Ok(())
}
