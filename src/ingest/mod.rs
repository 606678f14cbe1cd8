//! One call of ingest_metrics: split the payload, validate every event, store the
//! valid ones, quarantine the others, and summarize. Replaying quarantined events
//! (`replay`) goes through the same steps.

pub(crate) mod binary_json;
mod replay;
mod summary;

use pgrx::pg_sys::JsonbContainer;
use pgrx::prelude::*;
use user_metrics_contract::{event_id_hint, parse_event, Event, Json};

use crate::error::{Error, Result};
use crate::sql::{citus_loaded, count};
use crate::storage::counters::Counts;
use crate::storage::{
    ingest_stats, quarantine, store_events, store_one, store_one_in_place, store_one_routed,
    OneEvent, Outcome, Quarantined,
};
pub use replay::replay;
use std::collections::BTreeMap;
use std::time::Instant;
pub use summary::Summary;

/// What to do with invalid events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Store the valid events, keep the invalid ones in rejected_events.
    Quarantine,
    /// Raise an ERROR at the first invalid event; store nothing.
    Raise,
}

impl OnError {
    pub fn parse(text: &str) -> Result<OnError> {
        match text {
            "quarantine" => Ok(OnError::Quarantine),
            "raise" => Ok(OnError::Raise),
            other => Err(Error::UnknownMode(other.to_string())),
        }
    }
}

/// Ingests a payload (one event object or an array of them) given as the top
/// container of its jsonb, `size` bytes.
pub fn ingest(payload: &JsonbContainer, size: usize, on_error: OnError) -> Result<Summary> {
    let started = Instant::now();
    let _watch = crate::elog::watch();
    crate::memory::trim_after_large_call(size);
    let raw_events = binary_json::split(payload)?;
    if let [raw] = raw_events.as_slice() {
        if let Some(summary) = ingest_one(*raw, started)? {
            return Ok(summary);
        }
    }
    let (summary, rejected, mut counts) = evaluate(&raw_events, on_error)?;
    if !rejected.is_empty() {
        counts.rejected = count(quarantine::keep(&rejected)?)?;
        log_rejections(raw_events.len(), &summary, &rejected);
    }
    ingest_stats::record(
        counts,
        &ingest_stats::Call {
            accepted: summary.accepted,
            duplicates: summary.duplicates,
            rejected_by_code: by_code(&rejected),
            time: started.elapsed(),
        },
    )?;
    Ok(summary.with_errors(&rejected))
}

/// A call of one valid event: stored without a statement into a session already
/// stored (`store_one_in_place`), else by one statement (`store_one`), or on Citus
/// by statements that each reach only its user's shard (`store_one_routed`), when
/// it can be; or None, having written nothing, for the general path.
fn ingest_one<'a, J: Json<'a>>(raw: J, started: Instant) -> Result<Option<Summary>> {
    let Ok(event) = parse_event(raw) else {
        return Ok(None);
    };
    let outcome = if citus_loaded() {
        store_one_routed(&event, started)?
    } else if let Some(outcome) = store_one_in_place(&event, started)? {
        outcome
    } else {
        store_one(&event, started)?
    };
    let mut summary = Summary::default();
    match outcome {
        OneEvent::Recorded(Outcome::Stored) => summary.accepted = 1,
        OneEvent::Recorded(_) => summary.duplicates = 1,
        OneEvent::RacedRepeat => {
            summary.duplicates = 1;
            ingest_stats::record_one_event_in_place(Counts::default(), false, started.elapsed())?;
        }
        OneEvent::Declined => return Ok(None),
    }
    Ok(Some(summary.with_errors(&[])))
}

/// How many events were refused, per code.
fn by_code(rejected: &[Quarantined]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for r in rejected {
        *counts.entry(r.rejection.code.as_str()).or_default() += 1;
    }
    counts
}

/// Validates the events, stores the valid ones, and returns the summary with the
/// refused events (in batch order), which the caller keeps or reports, and the
/// rows stored.
fn evaluate<'a, J: Json<'a>>(
    raw_events: &[J],
    on_error: OnError,
) -> Result<(Summary, Vec<Quarantined<'a>>, Counts)> {
    let (valid, indexes, mut rejected) = validate(raw_events, on_error)?;
    let mut summary = Summary::default();
    let mut counts = Counts::default();
    if !valid.is_empty() {
        let outcomes;
        (outcomes, counts) = store_events(&valid, &indexes, on_error == OnError::Raise)?;
        for ((event, &index), outcome) in valid.iter().zip(&indexes).zip(outcomes) {
            let rejection = match outcome {
                Outcome::Stored => {
                    summary.accepted += 1;
                    continue;
                }
                Outcome::Duplicate => {
                    summary.duplicates += 1;
                    continue;
                }
                // An erased user's old event is dropped, kept nowhere, and reported
                // as the writer sees any event it sends again: a duplicate when it
                // has an event_id, accepted when it has none (events without one
                // are never recognized as repeats). So the answer says nothing of
                // the erasure, which only the owner role may know of (SECURITY.md).
                Outcome::Forgotten => {
                    if event.event_id.is_some() {
                        summary.duplicates += 1;
                    } else {
                        summary.accepted += 1;
                    }
                    continue;
                }
                Outcome::Conflict(rejection) => rejection,
            };
            rejected.push(Quarantined {
                index,
                event_id: event.event_id.as_deref().map(str::to_string),
                rejection,
                payload: raw_events[index].text(),
            });
        }
    }
    rejected.sort_by_key(|r| r.index);
    Ok((summary, rejected, counts))
}

/// The events the contract accepts, each with its index in the payload, and the
/// ones it rejects, in batch order. With `OnError::Raise`, the first rejected
/// event is the error.
fn validate<'a, J: Json<'a>>(
    raw_events: &[J],
    on_error: OnError,
) -> Result<(Vec<Event<'a>>, Vec<usize>, Vec<Quarantined<'a>>)> {
    let mut valid = Vec::with_capacity(raw_events.len());
    let mut indexes = Vec::with_capacity(raw_events.len());
    let mut rejected = Vec::new();
    for (index, raw) in raw_events.iter().enumerate() {
        // A long batch must still answer a cancel or statement_timeout promptly.
        if index % 1024 == 0 {
            check_for_interrupts!();
        }
        match parse_event(*raw) {
            Ok(event) => {
                valid.push(event);
                indexes.push(index);
            }
            Err(rejection) if on_error == OnError::Raise => {
                return Err(Error::InvalidEvent { index, rejection })
            }
            Err(rejection) => rejected.push(Quarantined {
                index,
                event_id: event_id_hint(*raw),
                rejection,
                payload: raw.text(),
            }),
        }
    }
    Ok((valid, indexes, rejected))
}

/// One server-log line per call that rejected anything, with a count per code and
/// nothing of the payload.
fn log_rejections(total: usize, summary: &Summary, rejected: &[Quarantined]) {
    let by_code: Vec<String> = by_code(rejected)
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect();
    crate::elog::log(&format!(
        "user_metrics: ingest_metrics rejected {} of {} events ({}); accepted {}, duplicates {}; see user_metrics.rejected_events",
        rejected.len(),
        total,
        by_code.join(", "),
        summary.accepted,
        summary.duplicates
    ));
}
