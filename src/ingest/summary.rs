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
    /// Records the rejected events, in batch order.
    pub fn set_errors(&mut self, rejected: Vec<Quarantined>) {
        self.errors = rejected
            .into_iter()
            .map(|r| {
                json!({
                    "index": r.index,
                    "event_id": r.event_id,
                    "code": r.rejection.code.as_str(),
                    "message": r.rejection.message,
                })
            })
            .collect();
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
