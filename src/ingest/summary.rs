//! The value ingest_metrics returns.

use serde_json::{json, Value};

use crate::storage::Quarantined;

#[derive(Debug, Default)]
pub struct Summary {
    pub accepted: u64,
    pub duplicates: u64,
    errors: Vec<Value>,
}

impl Summary {
    /// The summary with one error entry per rejected event, in batch order.
    pub fn with_errors(mut self, rejected: &[Quarantined]) -> Summary {
        self.errors = rejected
            .iter()
            .map(|r| {
                json!({
                    "index": r.index,
                    "event_id": r.event_id,
                    "code": r.rejection.code.as_str(),
                    "message": r.rejection.message,
                })
            })
            .collect();
        self
    }

    /// `{"accepted": A, "duplicates": D, "rejected": R, "errors": [...]}`
    pub fn into_json(self) -> Value {
        json!({
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.errors.len(),
            "errors": self.errors,
        })
    }
}
