//! The per-day statistics of ingest_metrics (table ingest_counters, view
//! ingest_stats): kept by each call in its own transaction, in a row of its
//! backend's own, like the counters of health(), and written with them in one
//! statement, the call's last.

use std::collections::BTreeMap;
use std::time::Duration;

use pgrx::pg_sys;

use super::counters::{self, backend_slot, Counts};
use crate::error::{Error, Result};
use crate::sql::{count, ignore, update_row, write, Row, ADD_TO_COUNTERS};

/// One call: events accepted, duplicates, refused per code, and its time.
pub struct Call<'a> {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected_by_code: BTreeMap<&'a str, usize>,
    pub time: Duration,
}

/// Adds the call to the day's statistics and its `counts` to the counters.
pub fn record(counts: Counts, call: &Call) -> Result<()> {
    let rejected: usize = call.rejected_by_code.values().sum();
    let by_code = serde_json::to_string(&call.rejected_by_code)
        .map_err(|e| Error::Internal(format!("rejections by code: {e}")))?;
    let time_us = i64::try_from(call.time.as_micros())
        .map_err(|_| Error::Internal("call time overflows bigint".into()))?;
    write(
        &ADD_TO_COUNTERS,
        || {
            let stats = vec![
                count(call.accepted)?.into(),
                count(call.duplicates)?.into(),
                count(rejected)?.into(),
                by_code.as_str().into(),
                time_us.into(),
            ];
            Ok(counters::args(counts, Some(stats)))
        },
        ignore,
    )?;
    Ok(())
}

/// Adds a call of one event, stored or a repeat (`stored` false), taking `time`,
/// by the statement (for the rows `record_one_event_in_place` cannot change).
fn record_one_event(counts: Counts, stored: bool, time: Duration) -> Result<()> {
    record(
        counts,
        &Call {
            accepted: u64::from(stored),
            duplicates: u64::from(!stored),
            rejected_by_code: BTreeMap::new(),
            time,
        },
    )
}

/// What `record_one_event` does, with this backend's two rows changed in place
/// (`update_row`) rather than by a statement: for a call of one event the
/// statement's setting up cost more than its two row changes (README,
/// Performance, change 12). A row that is not there yet (the backend's first
/// call, or its first of the day for the statistics) is written by the statement,
/// as is any row of a table that `update_row` declines.
pub fn record_one_event_in_place(counts: Counts, stored: bool, time: Duration) -> Result<()> {
    let time_us = i64::try_from(time.as_micros())
        .map_err(|_| Error::Internal("call time overflows bigint".into()))?;
    // SAFETY: the start of the current transaction, what now() returns.
    let now = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    let slot = pg_sys::Datum::from(backend_slot());
    let counted = counts == Counts::default()
        || update_row(c"user_metrics", c"counters", &[("slot", slot)], |row| {
            add(row, "users", counts.users)?;
            add(row, "sessions", counts.sessions)?;
            add(row, "events", counts.events)?;
            add(row, "rejected", counts.rejected)?;
            if counts.events > 0 {
                let latest = row
                    .timestamptz("last_received_at")?
                    .map_or(now, |at| at.max(now));
                row.set_timestamptz("last_received_at", Some(latest))?;
            }
            Ok(())
        })?;
    // The UTC day of now(), as a date: days since 2000-01-01.
    let day =
        pg_sys::Datum::from(i32::try_from(now.div_euclid(86_400_000_000)).unwrap_or(i32::MAX));
    let accepted = i64::from(stored);
    let recorded = update_row(
        c"user_metrics",
        c"ingest_counters",
        &[("day", day), ("slot", slot)],
        |row| {
            add(row, "calls", 1)?;
            add(row, "accepted", accepted)?;
            add(row, "duplicates", 1 - accepted)?;
            add(row, "time_us_total", time_us)?;
            let longest = row.bigint("time_us_max")?.max(time_us);
            row.set_bigint("time_us_max", longest)
        },
    )?;
    match (counted, recorded) {
        (true, true) => Ok(()),
        (false, true) => counters::add(counts),
        (true, false) => record_one_event(Counts::default(), stored, time),
        (false, false) => record_one_event(counts, stored, time),
    }
}

/// Adds `value` to a bigint column of the row.
fn add(row: &mut Row, column: &str, value: i64) -> Result<()> {
    let sum = row
        .bigint(column)?
        .checked_add(value)
        .ok_or_else(|| Error::Internal(format!("{column} overflows bigint")))?;
    row.set_bigint(column, sum)
}
