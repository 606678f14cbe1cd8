//! One valid metrics event, after validation, and the limits the contract sets.

use rust_decimal::Decimal;
use std::borrow::Cow;

use crate::timestamp::Timestamp;

/// Longest accepted `user.email`, in characters of its stored (normalized) form:
/// the limit of an SMTP path.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest accepted `event_id` and `session.id`, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// Longest accepted `user.name` and device string field, in characters.
pub const MAX_TEXT_CHARS: usize = 256;
/// Largest accepted `session.device` object, in bytes of its JSON text.
pub const MAX_DEVICE_BYTES: usize = 4096;
/// Largest accepted `metrics.talked_time`, in seconds: one day.
pub const MAX_TALKED_SECONDS: i64 = 86_400;
/// Decimal places kept of `metrics.talked_time` and `metrics.voice_sentiment`
/// (nanoseconds, for talked time); more are rounded half to even. The bound keeps
/// every sum a batch can make exact in a 28-digit decimal.
pub const MAX_DECIMAL_PLACES: u32 = 9;

/// The device fields the contract knows; they must be strings when present.
/// Any other key of `session.device` is kept as sent.
pub const DEVICE_STRING_FIELDS: [&str; 5] = ["id", "type", "os", "app_version", "model"];

/// A valid event, with every value checked and normalized (e-mail in its stored
/// form, see `normalize_email`; times in UTC microseconds; numbers as exact
/// decimals with the digits that were sent; empty name dropped). Text borrows
/// from the JSON it was read from wherever it can, so a batch of events costs
/// little more memory than its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub event_id: Option<Cow<'a, str>>,
    pub recorded_at: Option<Timestamp>,
    pub email: Cow<'a, str>,
    pub name: Option<Cow<'a, str>>,
    pub session_id: Cow<'a, str>,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// The `session.device` object exactly as sent, as JSON text.
    pub device: Option<Cow<'a, str>>,
    pub talked_time: Decimal,
    pub microphone_used: Option<bool>,
    pub speaker_used: Option<bool>,
    pub voice_sentiment: Option<Decimal>,
}

impl Event<'_> {
    /// The same event, owning its text.
    pub fn into_owned(self) -> Event<'static> {
        let own = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        Event {
            event_id: self.event_id.map(own),
            recorded_at: self.recorded_at,
            email: own(self.email),
            name: self.name.map(own),
            session_id: own(self.session_id),
            started_at: self.started_at,
            ended_at: self.ended_at,
            device: self.device.map(own),
            talked_time: self.talked_time,
            microphone_used: self.microphone_used,
            speaker_used: self.speaker_used,
            voice_sentiment: self.voice_sentiment,
        }
    }
}
