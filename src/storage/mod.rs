//! Writes to the extension's tables, set-based: each step of a batch is one
//! statement over arrays, whatever the number of events.

pub mod convert;
mod events;
mod quarantine;
pub mod statements;

pub use events::{store_events, Outcome};
pub use quarantine::{quarantine, Quarantined};
