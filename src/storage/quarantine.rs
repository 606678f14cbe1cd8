//! The quarantine, table user_metrics.rejected_events: rejected events kept with
//! their payload as sent, and what replay_rejected and discard_rejected do to them.

use serde::Serialize;
use user_metrics_contract::Rejection;

use super::counters::{self, Counts};
use crate::error::{Error, Result};
use crate::sql::*;

/// One rejected event of a batch.
pub struct Quarantined<'a> {
    pub index: usize,
    pub event_id: Option<String>,
    pub rejection: Rejection,
    /// The event's JSON text exactly as it came in.
    pub payload: &'a str,
}

parameter_rows! {
    /// A rejected event as the quarantine statement keeps it.
    pub struct QuarantineRow<'a> {
        batch_index: i32,
        event_id: Option<&'a str>,
        error_code: &'static str,
        error_message: &'a str,
        /// JSON text, which the statement casts to jsonb.
        payload: &'a str,
    }
}

/// Keeps the rejected events, each distinct payload once (see
/// `sql/queries/quarantine.sql`); returns how many rows the quarantine gained.
pub fn keep(rejected: &[Quarantined<'_>]) -> Result<usize> {
    if rejected.is_empty() {
        return Ok(0);
    }
    let created = write(
        &QUARANTINE,
        || {
            let mut rows = Vec::with_capacity(rejected.len());
            for r in rejected {
                rows.push(QuarantineRow {
                    batch_index: i32::try_from(r.index)
                        .map_err(|_| Error::Internal("batch index overflows int".into()))?,
                    event_id: r.event_id.as_deref(),
                    error_code: r.rejection.code.as_str(),
                    error_message: &r.rejection.message,
                    payload: r.payload,
                });
            }
            Ok(QuarantineRow::into_args(rows))
        },
        |row| column::<bool>(&row, "created"),
    )?;
    Ok(created.into_iter().filter(|&created| created).count())
}

result_row! {
    /// A quarantined event, locked for a replay: its id and its payload as JSON text.
    pub struct LockedEvent {
        id: i64,
        payload: String,
    }
}

/// The quarantined events with these ids that exist, locked in id order, so that
/// two replays of the same events take turns and cannot both store them.
pub fn lock(ids: &[i64]) -> Result<Vec<LockedEvent>> {
    write(
        &LOCK_REJECTED,
        || Ok(vec![ids.to_vec().into()]),
        LockedEvent::read,
    )
}

parameter_rows! {
    /// A quarantined event that a replay refused again, with the latest reason;
    /// replay_rejected lists them as `{"id", "code", "message"}`.
    #[derive(Debug, Clone, Serialize)]
    pub struct RefusedAgain {
        id: i64,
        #[serde(rename = "code")]
        error_code: &'static str,
        #[serde(rename = "message")]
        error_message: String,
    }
}

/// Ends a replay of `replayed` (locked with `lock`): those refused again stay, with
/// their new reason and one more replay counted; the others (stored, repeats of
/// stored events, or an erased user's, which are not to be kept) leave the
/// quarantine. Returns how many left it.
pub fn settle_replay(replayed: &[LockedEvent], refused_again: &[RefusedAgain]) -> Result<i64> {
    let stays: std::collections::HashSet<i64> = refused_again.iter().map(|r| r.id).collect();
    let done: Vec<i64> = replayed
        .iter()
        .map(|event| event.id)
        .filter(|id| !stays.contains(id))
        .collect();
    let left = remove(done)?;
    if !refused_again.is_empty() {
        write(
            &MARK_REPLAYED,
            || Ok(RefusedAgain::into_args(refused_again.iter().cloned())),
            ignore,
        )?;
    }
    Ok(left)
}

/// Removes these quarantined events for good, as discard_rejected does; returns
/// how many were removed.
pub fn discard(ids: &[i64]) -> Result<i64> {
    let _watch = crate::elog::watch();
    let removed = remove(ids.to_vec())?;
    counters::add(Counts {
        rejected: -removed,
        ..Counts::default()
    })?;
    Ok(removed)
}

/// Deletes these quarantined events; returns how many were there. The counters
/// are the caller's to adjust.
pub fn remove(ids: Vec<i64>) -> Result<i64> {
    if ids.is_empty() {
        return Ok(0);
    }
    count(write(&DELETE_REJECTED, || Ok(vec![ids.into()]), ignore)?.len())
}
