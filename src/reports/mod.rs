//! The read-only reports, and the quarantine listing. Each report is one prepared
//! query over the sessions' running totals (kept by ingestion), so none of them
//! scans the events table.

pub mod activity;
pub mod calendar;
mod health;
pub mod rejected;
pub mod session_details;
pub mod user_totals;
pub mod weekly;

pub use activity::activity_report;
pub use health::health;
pub use rejected::rejected_events;
pub use session_details::{session_details, user_sessions};
pub use user_totals::user_totals;
pub use weekly::{local_weekly_report, weekly_report};
