//! Reading JSON one level at a time.
//!
//! The contract reads a value through the `Json` trait: JSON text (`&RawValue`,
//! here), or any other representation of the same document (the extension reads
//! PostgreSQL's binary jsonb directly, without printing it as text first). Every
//! value below the level being checked stays unread, so a deeply nested or huge
//! value costs a linear scan and never recursion: hostile input cannot overflow
//! the stack or trip a parser depth limit.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

use crate::rejection::{RejectCode, Rejection};

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// One JSON value, read one level at a time. Every representation must answer
/// alike for the same document: the text of a value (which messages quote, and
/// which the device is kept as) is the text PostgreSQL's `jsonb_out` prints, as
/// is a number's.
pub trait Json<'a>: Copy {
    fn kind(self) -> JsonKind;
    /// The value as JSON text.
    fn text(self) -> &'a str;
    /// A string's value, without its escapes. Only asked of strings.
    fn string(self) -> Result<Cow<'a, str>, String>;
    /// A number's text. Only asked of numbers.
    fn number(self) -> &'a str;
    /// A boolean's value. Only asked of booleans.
    fn boolean(self) -> bool;
    /// An object's members in order, their values unread. Only asked of objects.
    fn members(self) -> Result<Vec<(Cow<'a, str>, Self)>, String>;
}

/// JSON text, as serde_json hands it over unparsed. The text is known to be valid
/// JSON (PostgreSQL's own text of a jsonb value).
impl<'a> Json<'a> for &'a RawValue {
    fn kind(self) -> JsonKind {
        JsonKind::of(self)
    }

    fn text(self) -> &'a str {
        self.get().trim()
    }

    fn string(self) -> Result<Cow<'a, str>, String> {
        serde_json::from_str::<Text>(self.get())
            .map(|text| text.0)
            .map_err(|e| e.to_string())
    }

    fn number(self) -> &'a str {
        self.get().trim()
    }

    fn boolean(self) -> bool {
        self.get().trim() == "true"
    }

    fn members(self) -> Result<Vec<(Cow<'a, str>, Self)>, String> {
        let mut de = serde_json::Deserializer::from_str(self.get());
        de.deserialize_map(MembersVisitor)
            .map_err(|e| e.to_string())
    }
}

impl JsonKind {
    /// The type of JSON text, read from its first byte.
    pub fn of(raw: &RawValue) -> JsonKind {
        match raw.get().trim_start().as_bytes().first() {
            Some(b'{') => JsonKind::Object,
            Some(b'[') => JsonKind::Array,
            Some(b'"') => JsonKind::String,
            Some(b't') | Some(b'f') => JsonKind::Boolean,
            Some(b'n') => JsonKind::Null,
            _ => JsonKind::Number,
        }
    }

    /// The name used in messages: "expected a string, got an array".
    pub fn with_article(self) -> &'static str {
        match self {
            JsonKind::Object => "an object",
            JsonKind::Array => "an array",
            JsonKind::String => "a string",
            JsonKind::Number => "a number",
            JsonKind::Boolean => "a boolean",
            JsonKind::Null => "null",
        }
    }
}

/// How a rejected value is quoted in a message: its JSON text, cut short when long
/// so that a 10 MB string does not become a 10 MB error message.
pub fn quote<'a>(raw: impl Json<'a>) -> String {
    const MAX_CHARS: usize = 64;
    let text = raw.text();
    match text.char_indices().nth(MAX_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
    }
}

/// Where a value sits in an event, e.g. `session.device.os`; the empty path is the
/// event itself. Cheap to pass around: it becomes text only in a rejection.
#[derive(Debug, Clone, Copy)]
pub struct Path<'a> {
    parent: &'static str,
    key: &'a str,
}

impl<'a> Path<'a> {
    /// A path named in full, such as `session.ended_at`.
    pub const fn named(path: &'static str) -> Path<'static> {
        Path {
            parent: "",
            key: path,
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.parent.is_empty() {
            f.write_str(self.key)
        } else {
            write!(f, "{}.{}", self.parent, self.key)
        }
    }
}

/// A key as named in messages: cut short when long, like `quote`.
fn shorten(key: &str) -> Cow<'_, str> {
    const MAX_CHARS: usize = 64;
    match key.char_indices().nth(MAX_CHARS) {
        None => Cow::Borrowed(key),
        Some((cut, _)) => Cow::Owned(format!("{}…", &key[..cut])),
    }
}

/// The members of one JSON object, values left unread. Keys borrow from the
/// document unless they contain escapes.
pub struct Object<'a, J> {
    path: &'static str,
    members: Vec<(Cow<'a, str>, J)>,
}

impl<'a, J: Json<'a>> Object<'a, J> {
    /// Reads `raw` as an object; `path` names it in messages ("" for the event itself).
    pub fn read(raw: J, path: &'static str) -> Result<Object<'a, J>, Rejection> {
        let kind = raw.kind();
        if kind != JsonKind::Object {
            let code = if path.is_empty() {
                RejectCode::NotAnObject
            } else {
                RejectCode::InvalidType
            };
            return Err(Rejection::new(
                code,
                path,
                format!("expected an object, got {}", kind.with_article()),
            ));
        }
        let members = raw.members().map_err(|e| {
            // Unreachable for a document PostgreSQL parsed, kept as a rejection rather
            // than a panic.
            Rejection::new(
                RejectCode::InvalidValue,
                path,
                format!("malformed JSON: {e}"),
            )
        })?;
        Ok(Object { path, members })
    }

    /// The path of a member: "session" + "id" gives "session.id".
    pub fn child_path<'k>(&self, key: &'k str) -> Path<'k> {
        Path {
            parent: self.path,
            key,
        }
    }

    /// Rejects the first key (in sorted order) that is not in `known`.
    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), Rejection> {
        let first_unknown = self
            .members
            .iter()
            .map(|(key, _)| key.as_ref())
            .filter(|key| !known.contains(key))
            .min();
        match first_unknown {
            None => Ok(()),
            Some(key) => Err(Rejection::new(
                RejectCode::UnknownField,
                self.child_path(&shorten(key)),
                "unknown field",
            )),
        }
    }

    /// The value of `key`, or `None` when it is absent or JSON `null`.
    /// With duplicate keys the last one wins, as in jsonb.
    pub fn get(&self, key: &str) -> Option<J> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| *v)
            .filter(|v| v.kind() != JsonKind::Null)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            members.push((key, map.next_value::<&'de RawValue>()?));
        }
        Ok(members)
    }
}

/// A JSON string, borrowed from the JSON text when it has no escapes.
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_string())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}
