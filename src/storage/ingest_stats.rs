//! The per-day statistics of ingest_metrics (table ingest_counters, view
//! ingest_stats): kept by each call in its own transaction, in a row of its
//! backend's own, like the counters of health(), and written with them in one
//! statement, the call's last.

use std::collections::BTreeMap;
use std::time::Duration;

use super::counters::{self, Counts};
use crate::error::{Error, Result};
use crate::sql::{count, ignore, write, ADD_TO_COUNTERS};

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

/// Adds a call of one event, stored or a repeat (`stored` false), taking `time`.
pub fn record_one_event(counts: Counts, stored: bool, time: Duration) -> Result<()> {
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
