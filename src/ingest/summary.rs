//! The value ingest_metrics returns.

use serde::Serialize;

use crate::storage::Quarantined;

/// `{"accepted": A, "duplicates": D, "rejected": R, "errors": [...]}`
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub accepted: u64,
    pub duplicates: u64,
    rejected: usize,
    errors: Vec<EventError>,
}

/// One refused event of the call.
#[derive(Debug, Serialize)]
struct EventError {
    index: usize,
    event_id: Option<String>,
    code: &'static str,
    message: String,
}

impl Summary {
    /// The summary with one error entry per rejected event, in batch order.
    pub fn with_errors(mut self, rejected: &[Quarantined]) -> Summary {
        self.rejected = rejected.len();
        self.errors = rejected
            .iter()
            .map(|r| EventError {
                index: r.index,
                event_id: r.event_id.clone(),
                code: r.rejection.code.as_str(),
                message: r.rejection.message.clone(),
            })
            .collect();
        self
    }
}
