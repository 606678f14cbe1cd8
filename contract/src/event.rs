//! One valid metrics event, after validation, and the limits the contract sets.

use crate::timestamp::Timestamp;

/// Longest accepted `user.email`, in characters (the limit of an SMTP path).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest accepted `event_id` and `session.id`, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// Longest accepted `user.name` and device string field, in characters.
pub const MAX_TEXT_CHARS: usize = 256;
/// Largest accepted `session.device` object, in bytes of its JSON text.
pub const MAX_DEVICE_BYTES: usize = 4096;
/// Largest accepted `metrics.talked_time`, in seconds: one day.
pub const MAX_TALKED_SECONDS: f64 = 86_400.0;

/// The device fields the contract knows; they must be strings when present.
/// Any other key of `session.device` is kept as sent.
pub const DEVICE_STRING_FIELDS: [&str; 5] = ["id", "type", "os", "app_version", "model"];

/// A valid event, with every value checked and normalized
/// (email lower-cased, times in UTC microseconds, empty name dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: Option<String>,
    pub recorded_at: Option<Timestamp>,
    pub email: String,
    pub name: Option<String>,
    pub session_id: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// The `session.device` object exactly as sent, as JSON text.
    pub device: Option<String>,
    pub talked_time: f64,
    pub microphone_used: Option<bool>,
    pub speaker_used: Option<bool>,
    pub voice_sentiment: Option<f64>,
}
