//! Every write to the extension's tables: users, sessions, events, the quarantine
//! and the counters, for ingestion, replay, erasure and retention. Set-based: each
//! step of a batch is one statement over arrays, whatever the number of events;
//! a call of one event runs none (`store_one_in_place`), else one in all
//! (`store_one`), or on Citus a few that each reach only its user's shard
//! (`store_one_routed`).

pub mod counters;
mod erasure;
pub mod events;
pub mod ingest_stats;
mod key_hash;
mod keys;
mod lookup;
pub mod quarantine;
mod retention;
pub mod sequences;
pub mod sessions;
pub mod slices;
mod store;
mod store_one;
mod store_one_in_place;
mod store_one_routed;
mod table_locks;
pub mod users;
mod verdicts;

pub use erasure::forget_user;
pub use quarantine::Quarantined;
pub use retention::purge;
pub use sequences::resync_sequences;
pub use store::store_events;
pub use store_one::{store_one, OneEvent};
pub use store_one_in_place::store_one_in_place;
pub use store_one_routed::store_one_routed;
pub use table_locks::lock_written_tables;
pub use verdicts::Outcome;
