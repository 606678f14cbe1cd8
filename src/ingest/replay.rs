//! Replaying quarantined events: each is validated and stored again as if it had
//! just been sent. What is stored now (or turns out to be a repeat of a stored
//! event) leaves the quarantine; what is still refused stays, with its new reason.

use serde_json::{json, Value};
use std::collections::HashSet;
use user_metrics_contract::RawValue;

use super::{evaluate, OnError};
use crate::error::{Error, Result};
use crate::storage::counters::{self, Counts};
use crate::storage::rows::{count, required};
use crate::storage::statements::{ignore, write};
use crate::storage::statements::{DELETE_REJECTED, LOCK_REJECTED, MARK_REPLAYED};

/// Replays the quarantined events with these ids, in id order. Returns
/// `{"replayed", "accepted", "duplicates", "rejected", "errors": [{"id", "code",
/// "message"}], "not_found": [ids]}`.
pub fn replay(ids: &[i64]) -> Result<Value> {
    let _watch = crate::elog::watch();
    // Locked, so that two replays of the same rows cannot both store them.
    let rows: Vec<(i64, String)> = write(
        &LOCK_REJECTED,
        || Ok(vec![ids.to_vec().into()]),
        |row| {
            Ok((
                required(row.get::<i64>(1)?, "id")?,
                required(row.get::<String>(2)?, "payload")?,
            ))
        },
    )?;
    let found: HashSet<i64> = rows.iter().map(|(id, _)| *id).collect();
    let mut not_found: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect();
    not_found.sort_unstable();
    not_found.dedup();
    let mut raw_events: Vec<&RawValue> = Vec::with_capacity(rows.len());
    for (id, payload) in &rows {
        raw_events.push(
            serde_json::from_str(payload).map_err(|e| {
                Error::Internal(format!("quarantined payload {id} is not JSON: {e}"))
            })?,
        );
    }

    let (summary, still_rejected, stored) = evaluate(&raw_events, OnError::Quarantine)?;
    // What is still refused stays, except an erased user's event (user_forgotten),
    // which leaves the quarantine like a stored one: it is not to be kept.
    let still: Vec<(i64, &str, &str)> = still_rejected
        .iter()
        .filter(|r| r.kept)
        .map(|r| {
            (
                rows[r.index].0,
                r.rejection.code.as_str(),
                r.rejection.message.as_str(),
            )
        })
        .collect();
    let kept: HashSet<i64> = still.iter().map(|s| s.0).collect();
    let done: Vec<i64> = rows
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !kept.contains(id))
        .collect();

    let mut left_quarantine = 0;
    if !done.is_empty() {
        left_quarantine = write(&DELETE_REJECTED, || Ok(vec![done.clone().into()]), ignore)?.len();
    }
    counters::add(stored.plus(Counts {
        rejected: -count(left_quarantine)?,
        ..Counts::default()
    }))?;
    if !still.is_empty() {
        write(
            &MARK_REPLAYED,
            || {
                let ids: Vec<i64> = still.iter().map(|s| s.0).collect();
                let codes: Vec<&str> = still.iter().map(|s| s.1).collect();
                let messages: Vec<&str> = still.iter().map(|s| s.2).collect();
                Ok(vec![ids.into(), codes.into(), messages.into()])
            },
            ignore,
        )?;
    }
    let errors: Vec<Value> = still
        .iter()
        .map(|(id, code, message)| json!({"id": id, "code": code, "message": message}))
        .collect();
    Ok(json!({
        "replayed": rows.len(),
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "rejected": still.len(),
        "errors": errors,
        "not_found": not_found,
    }))
}

/// Removes quarantined events for good; returns how many were removed.
pub fn discard(ids: &[i64]) -> Result<i64> {
    let _watch = crate::elog::watch();
    let removed = count(write(&DELETE_REJECTED, || Ok(vec![ids.to_vec().into()]), ignore)?.len())?;
    counters::add(Counts {
        rejected: -removed,
        ..Counts::default()
    })?;
    Ok(removed)
}
