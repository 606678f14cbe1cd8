//! What the routes take in their path and query, checked before anything is
//! sent to the database: otherwise 400, naming the field and the problem.
//!
//! Dates and timestamps are ISO 8601 as RFC 3339 writes them, and nothing else:
//! PostgreSQL would also take `yesterday`, `epoch`, `infinity` or `11/23/2026`,
//! whose meaning depends on when and where they are read.

use crate::error::ApiError;

/// E-mails: the extension's limit (users.email is at most 254 characters).
pub const EMAIL_CHARS: usize = 254;
/// Session ids: the extension's limit.
pub const SESSION_ID_CHARS: usize = 128;
/// Time zones: the longest IANA names are about 30 characters.
pub const TIME_ZONE_CHARS: usize = 64;
/// Other words (on_error, per).
pub const WORD_CHARS: usize = 32;

fn refused(field: &str, problem: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("{field}: {problem}"))
}

/// The value as the message quotes it: at most 64 characters, escaped.
fn quoted(value: &str) -> String {
    let mut shown: String = value.chars().take(64).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// Text of 1 to `max_chars` characters without control characters (NUL
/// included), which no identifier of the extension holds.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(refused(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(refused(
            field,
            format_args!("longer than {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(refused(
            field,
            format_args!("holds a control character: {}", quoted(value)),
        ));
    }
    Ok(())
}

pub fn optional_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| text(field, v, max_chars))
}

/// A query string must be UTF-8 once its `%XX` escapes are decoded.
pub fn query_string(raw: &str) -> Result<(), ApiError> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded)
        .map(|_| ())
        .map_err(|_| ApiError::bad_request("the query string is not UTF-8 once decoded"))
}

/// A calendar date, `YYYY-MM-DD`.
pub fn date(field: &str, value: &str) -> Result<(), ApiError> {
    if parse_date(value.as_bytes()) {
        Ok(())
    } else {
        Err(refused(
            field,
            format_args!("expected a date YYYY-MM-DD, got {}", quoted(value)),
        ))
    }
}

/// A date (midnight UTC) or a timestamp `YYYY-MM-DDTHH:MM[:SS[.fraction]]`
/// with `Z` or an offset `±HH:MM` (UTC without one).
pub fn timestamp(field: &str, value: &str) -> Result<(), ApiError> {
    if parse_timestamp(value.as_bytes()) {
        return Ok(());
    }
    // A '+' in a query string is read as a space.
    let hint = if value.len() > 19 && value.contains(' ') {
        " (send a '+' of an offset as %2B)"
    } else {
        ""
    };
    Err(refused(
        field,
        format_args!(
            "expected a date YYYY-MM-DD or a timestamp YYYY-MM-DDTHH:MM:SS with Z or an \
             offset ±HH:MM, got {}{hint}",
            quoted(value)
        ),
    ))
}

pub fn optional_timestamp(field: &str, value: Option<&str>) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| timestamp(field, v))
}

/// `count` ASCII digits at the start of `bytes`, as a number.
fn digits(bytes: &[u8], count: usize) -> Option<u32> {
    let part = bytes.get(..count)?;
    part.iter().all(u8::is_ascii_digit).then(|| {
        part.iter()
            .fold(0, |n, digit| n * 10 + u32::from(digit - b'0'))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse_date(bytes: &[u8]) -> bool {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    match (
        digits(bytes, 4),
        digits(&bytes[5..], 2),
        digits(&bytes[8..], 2),
    ) {
        (Some(year), Some(month), Some(day)) => {
            year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
        }
        _ => false,
    }
}

fn parse_timestamp(bytes: &[u8]) -> bool {
    if bytes.len() == 10 {
        return parse_date(bytes);
    }
    if bytes.len() < 16 || !parse_date(&bytes[..10]) || !matches!(bytes[10], b'T' | b't') {
        return false;
    }
    let Some(rest) = clock(&bytes[11..]) else {
        return false;
    };
    match rest {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', offset @ ..] => {
            offset.len() == 5
                && offset[2] == b':'
                && digits(offset, 2).is_some_and(|h| h <= 15)
                && digits(&offset[3..], 2).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// `HH:MM[:SS[.fraction]]` at the start of `bytes`; returns what follows.
fn clock(bytes: &[u8]) -> Option<&[u8]> {
    let hour = digits(bytes, 2)?;
    let minute = digits(bytes.get(3..)?, 2)?;
    if bytes[2] != b':' || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &bytes[5..];
    if let [b':', more @ ..] = rest {
        let second = digits(more, 2)?;
        if second > 59 {
            return None;
        }
        rest = &more[2..];
        if let [b'.', fraction @ ..] = rest {
            let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
            if !(1..=6).contains(&count) {
                return None;
            }
            rest = &fraction[count..];
        }
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for good in [
            "2026-11-23",
            "2024-02-29",
            "2000-02-29",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert!(date("d", good).is_ok(), "{good}");
        }
        for bad in [
            "yesterday",
            "today",
            "epoch",
            "infinity",
            "-infinity",
            "now",
            "allballs",
            "2026-11-23 ",
            " 2026-11-23",
            "2026-11-23\0",
            "20261123",
            "2026-1-23",
            "11/23/2026",
            "23.11.2026",
            "2026-13-01",
            "2026-00-10",
            "2026-11-31",
            "2023-02-29",
            "1900-02-29",
            "0000-01-01",
            "2026-11-23T00:00:00Z",
            "",
            "２０２６-11-23",
        ] {
            assert!(date("week_ending", bad).is_err(), "{bad:?}");
        }
        let message = date("week_ending", "yesterday").unwrap_err().message;
        assert_eq!(
            message,
            "week_ending: expected a date YYYY-MM-DD, got \"yesterday\""
        );
    }

    #[test]
    fn timestamps() {
        for good in [
            "2026-11-23",
            "2026-11-23T10:00",
            "2026-11-23T10:00:00",
            "2026-11-23T10:00:00Z",
            "2026-11-23t23:59:59.123456z",
            "2026-11-23T10:00:00+01:00",
            "2026-11-23T10:00-05:30",
            "2026-11-23T10:00:00.5+14:00",
        ] {
            assert!(timestamp("since", good).is_ok(), "{good}");
        }
        for bad in [
            "now",
            "epoch",
            "infinity",
            "yesterday",
            "2026-11-23 10:00:00",
            "2026-11-23T24:00:00",
            "2026-11-23T10:60",
            "2026-11-23T10:00:61",
            "2026-11-23T10:00:00.",
            "2026-11-23T10:00:00.1234567",
            "2026-11-23T10:00:00+1",
            "2026-11-23T10:00:00+0100",
            "2026-11-23T10:00:00 01:00",
            "2026-11-23T10:00:00+16:00",
            "2026-11-23T10:00:00ZZ",
            "2026-11-23T10",
            "2026-11-23T\0",
            "1700000000",
            "",
        ] {
            assert!(timestamp("since", bad).is_err(), "{bad:?}");
        }
        assert!(timestamp("since", "2026-11-23T10:00:00 01:00")
            .unwrap_err()
            .message
            .contains("%2B"));
    }

    #[test]
    fn query_strings() {
        for good in [
            "",
            "a=1&b=%C3%A9",
            "tz=Europe%2FBerlin",
            "x=%",
            "x=%2",
            "x=%zz",
            "é=1",
        ] {
            assert!(query_string(good).is_ok(), "{good}");
        }
        for bad in ["tz=%FF", "a=%C3", "a=%ED%A0%80", "a=%C0%80"] {
            assert!(query_string(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts() {
        assert!(text("email", "ana@example.com", EMAIL_CHARS).is_ok());
        assert!(text("email", "ünïcödé@example.com", EMAIL_CHARS).is_ok());
        for bad in ["", "a\0b", "a\nb", "a\u{7f}", "\u{85}x"] {
            assert!(text("email", bad, EMAIL_CHARS).is_err(), "{bad:?}");
        }
        assert!(text("id", &"x".repeat(129), SESSION_ID_CHARS).is_err());
        assert!(text("id", &"é".repeat(128), SESSION_ID_CHARS).is_ok());
        let message = text("id", "a\0b", 10).unwrap_err().message;
        assert_eq!(message, "id: holds a control character: \"a\\0b\"");
    }
}
