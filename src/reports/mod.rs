//! The read-only reports (and the quarantine listing). Each is one prepared query over the sessions' running
//! totals (kept by ingestion), so none of them scans the events table.

mod health;
mod rejected;
mod session_details;
mod user_totals;
mod weekly;

pub use health::health;
pub use rejected::rejected_events;
pub use session_details::session_details;
pub use user_totals::user_totals;
pub use weekly::weekly_report;

use crate::error::{Error, Result};

fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| Error::Internal(format!("unexpected NULL in column {column}")))
}
