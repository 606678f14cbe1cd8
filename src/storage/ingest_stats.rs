//! The per-day statistics of ingest_metrics (table ingest_counters, view
//! ingest_stats): kept by each call in its own transaction, in a row of its
//! backend's own, like the counters of health().

use std::collections::BTreeMap;
use std::time::Duration;

use super::counters::backend_slot;
use crate::error::{Error, Result};
use crate::sql::{count, ignore, write, ADD_TO_INGEST_STATS};

/// One call: events accepted, duplicates, refused per code, and its time.
pub struct Call<'a> {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected_by_code: BTreeMap<&'a str, usize>,
    pub time: Duration,
}

pub fn record(call: &Call) -> Result<()> {
    let rejected: usize = call.rejected_by_code.values().sum();
    let by_code = serde_json::to_string(&call.rejected_by_code)
        .map_err(|e| Error::Internal(format!("rejections by code: {e}")))?;
    let time_us = i64::try_from(call.time.as_micros())
        .map_err(|_| Error::Internal("call time overflows bigint".into()))?;
    write(
        &ADD_TO_INGEST_STATS,
        || {
            Ok(vec![
                backend_slot().into(),
                count(call.accepted)?.into(),
                count(call.duplicates)?.into(),
                count(rejected)?.into(),
                by_code.as_str().into(),
                time_us.into(),
            ])
        },
        ignore,
    )?;
    Ok(())
}
