//! Writes to the extension's tables, set-based: each step of a batch is one
//! statement over arrays, whatever the number of events.

pub mod convert;
pub mod counters;
mod erasure;
mod events;
mod forgotten;
pub mod ingest_stats;
mod keys;
mod quarantine;
mod retention;
pub mod rows;
mod sequences;
mod sessions;
pub mod statements;
mod store;
mod users;

pub use erasure::forget_user;
pub use quarantine::{quarantine, Quarantined};
pub use retention::purge;
pub use sequences::resync_sequences;
pub use store::{store_events, Outcome};
