//! Keeping rejected events, with their payload as sent, in user_metrics.rejected_events.

use user_metrics_contract::Rejection;

use super::statements::{ignore, write, QUARANTINE};
use crate::error::{Error, Result};

/// One rejected event of a batch.
pub struct Quarantined<'a> {
    pub index: usize,
    pub event_id: Option<String>,
    pub rejection: Rejection,
    /// The event's JSON text exactly as it came in.
    pub payload: &'a str,
    /// Kept in the quarantine; an erased user's event is refused without being
    /// kept (user_forgotten).
    pub kept: bool,
}

/// Keeps the rejected events that are to be kept; returns how many it kept.
pub fn quarantine(rejected: &[Quarantined<'_>]) -> Result<usize> {
    let rejected: Vec<&Quarantined> = rejected.iter().filter(|r| r.kept).collect();
    let kept = rejected.len();
    if kept == 0 {
        return Ok(0);
    }
    write(
        &QUARANTINE,
        || {
            let mut indexes = Vec::with_capacity(rejected.len());
            for r in &rejected {
                indexes.push(
                    i32::try_from(r.index)
                        .map_err(|_| Error::Internal("batch index overflows int".into()))?,
                );
            }
            let event_ids: Vec<Option<&str>> =
                rejected.iter().map(|r| r.event_id.as_deref()).collect();
            let codes: Vec<&str> = rejected.iter().map(|r| r.rejection.code.as_str()).collect();
            let messages: Vec<&str> = rejected
                .iter()
                .map(|r| r.rejection.message.as_str())
                .collect();
            let payloads: Vec<&str> = rejected.iter().map(|r| r.payload).collect();
            Ok(vec![
                indexes.into(),
                event_ids.into(),
                codes.into(),
                messages.into(),
                payloads.into(),
            ])
        },
        ignore,
    )?;
    Ok(kept)
}
