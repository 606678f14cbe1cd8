//! Why an event was rejected: a stable code for programs and a message for people.

use std::fmt;

/// The stable error codes of the event contract. Clients match on these strings,
/// so a code is never renamed once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectCode {
    /// The event itself is not a JSON object.
    NotAnObject,
    /// A required field is absent (JSON `null` counts as absent).
    MissingField,
    /// A field has the wrong JSON type.
    InvalidType,
    /// The type is right but the value is not.
    InvalidValue,
    /// A timestamp that does not parse or has no UTC offset.
    InvalidTimestamp,
    /// A key the contract does not know.
    UnknownField,
    /// The e-mail's user key is held by another e-mail: two addresses whose
    /// SHA-256 digests begin with the same 64 bits (see `user_key`).
    UserKeyCollision,
}

impl RejectCode {
    pub const ALL: [RejectCode; 7] = [
        RejectCode::NotAnObject,
        RejectCode::MissingField,
        RejectCode::InvalidType,
        RejectCode::InvalidValue,
        RejectCode::InvalidTimestamp,
        RejectCode::UnknownField,
        RejectCode::UserKeyCollision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::NotAnObject => "not_an_object",
            RejectCode::MissingField => "missing_field",
            RejectCode::InvalidType => "invalid_type",
            RejectCode::InvalidValue => "invalid_value",
            RejectCode::InvalidTimestamp => "invalid_timestamp",
            RejectCode::UnknownField => "unknown_field",
            RejectCode::UserKeyCollision => "user_key_collision",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected event: the code, the JSON path of the offending field
/// (empty for the event as a whole) and a message that starts with that path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: RejectCode,
    pub path: String,
    pub message: String,
}

impl Rejection {
    /// `problem` is what was wrong, without the path; the message gets the path prefixed.
    pub fn new(code: RejectCode, path: impl fmt::Display, problem: impl fmt::Display) -> Rejection {
        let path = path.to_string();
        let subject = if path.is_empty() { "event" } else { &path };
        let message = format!("{subject}: {problem}");
        Rejection {
            code,
            path,
            message,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rejection {}
