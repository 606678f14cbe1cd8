//! Replaying quarantined events: each is validated and stored again as if it had
//! just been sent. What is stored now (or turns out to be a repeat of a stored
//! event) leaves the quarantine; what is still refused stays, with its new reason.

use serde::Serialize;
use std::collections::HashSet;
use user_metrics_contract::RawValue;

use super::{evaluate, OnError};
use crate::error::{Error, Result};
use crate::storage::counters::{self, Counts};
use crate::storage::quarantine::{self, LockedEvent, RefusedAgain};

/// What replay_rejected returns: `{"replayed", "accepted", "duplicates",
/// "rejected", "errors": [{"id", "code", "message"}], "not_found": [ids]}`.
#[derive(Debug, Serialize)]
pub struct Replayed {
    replayed: usize,
    accepted: u64,
    duplicates: u64,
    rejected: usize,
    errors: Vec<RefusedAgain>,
    not_found: Vec<i64>,
}

/// Replays the quarantined events with these ids, in id order.
pub fn replay(ids: &[i64]) -> Result<Replayed> {
    let _watch = crate::elog::watch();
    let locked = quarantine::lock(ids)?;
    let raw_events = payloads(&locked)?;
    let (summary, still_rejected, stored) = evaluate(&raw_events, OnError::Quarantine)?;
    // What is still refused stays. An erased user's old event is not refused but
    // dropped (see `evaluate`): it leaves the quarantine like a stored one.
    let refused_again: Vec<RefusedAgain> = still_rejected
        .iter()
        .map(|r| RefusedAgain {
            id: locked[r.index].id,
            error_code: r.rejection.code.as_str(),
            error_message: r.rejection.message.clone(),
        })
        .collect();
    let left = quarantine::settle_replay(&locked, &refused_again)?;
    counters::add(stored.plus(Counts {
        rejected: -left,
        ..Counts::default()
    }))?;
    Ok(Replayed {
        replayed: locked.len(),
        accepted: summary.accepted,
        duplicates: summary.duplicates,
        rejected: refused_again.len(),
        errors: refused_again,
        not_found: not_found(ids, &locked),
    })
}

/// The quarantined events' payloads, as the JSON text they were sent as.
fn payloads(locked: &[LockedEvent]) -> Result<Vec<&RawValue>> {
    locked
        .iter()
        .map(|event| {
            serde_json::from_str(&event.payload).map_err(|e| {
                Error::Internal(format!("quarantined payload {} is not JSON: {e}", event.id))
            })
        })
        .collect()
}

/// The ids asked for that are not in the quarantine, sorted, each once.
fn not_found(ids: &[i64], locked: &[LockedEvent]) -> Vec<i64> {
    let found: HashSet<i64> = locked.iter().map(|event| event.id).collect();
    let mut missing: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}
