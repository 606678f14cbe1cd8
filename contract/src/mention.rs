//! Finding an e-mail address in text where a person would recognise it, for the
//! right to erasure: in any case and Unicode normal form, with anything around it
//! (spaces, `mailto:`, `<...>`, a sentence), but not where it is only part of a
//! longer address.
//!
//! The text and the address are compared in their stored form (case-folded and
//! NFC, see `normalize_email`). An occurrence counts unless the character just
//! before it could continue the local part of a longer address (a letter, a digit,
//! a combining mark, `.`, `_`, `-` or `+`: `hana@x.com` is not `ana@x.com`), or what
//! follows it could continue the domain (a letter, a digit, a combining mark, `-`,
//! or a dot followed by a letter or digit: `ana@x.com.br` is not `ana@x.com`). Other
//! characters are separators, including RFC 5322's rarer `atext` symbols (`=`,
//! `/`, `'`, ...): `email=ana@x.com` mentions `ana@x.com`. So when in doubt the
//! address counts as mentioned, and what holds it is erased.

use std::borrow::Cow;
use unicode_normalization::char::is_combining_mark;

use crate::email::normalize_email;

/// Whether `text` mentions `address`, which must be in its stored form.
pub fn mentions(text: &str, address: &str) -> bool {
    // Case folding and normalization never make an '@' out of anything else.
    if address.is_empty() || !text.contains('@') {
        return false;
    }
    let text = normalize_email(text);
    let mut from = 0;
    while let Some(found) = text[from..].find(address) {
        let start = from + found;
        let end = start + address.len();
        let before = text[..start].chars().next_back();
        if !before.is_some_and(continues_local_part) && !continues_domain(&text[end..]) {
            return true;
        }
        // Occurrences may overlap: look again one character further.
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Whether any string of a JSON text, object keys included, at any depth,
/// mentions `address` (stored form). The text is read string by string, without
/// building or recursing into the values, so any depth costs a linear scan.
pub fn json_mentions(json: &str, address: &str) -> bool {
    json_strings(json).any(|text| mentions(&text, address))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

fn continues_local_part(c: char) -> bool {
    is_word(c) || matches!(c, '.' | '_' | '-' | '+')
}

fn continues_domain(rest: &str) -> bool {
    let mut chars = rest.chars();
    match chars.next() {
        Some('.') => chars.next().is_some_and(is_word),
        Some(c) => is_word(c) || c == '-',
        None => false,
    }
}

/// Every string token of a JSON text, unescaped. The text must be valid JSON:
/// outside strings no `"` occurs, inside them every `"` is escaped.
fn json_strings(json: &str) -> impl Iterator<Item = Cow<'_, str>> {
    let bytes = json.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + bytes[at..].iter().position(|&b| b == b'"')?;
        let mut end = start + 1;
        let mut escaped = false;
        while end < bytes.len() && (escaped || bytes[end] != b'"') {
            escaped = !escaped && bytes[end] == b'\\';
            end += 1;
        }
        at = (end + 1).min(bytes.len());
        let token = json.get(start..=end)?;
        let inner = &token[1..token.len() - 1];
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        // One string token, escapes and all: serde_json reads it without recursion.
        Some(Cow::Owned(
            serde_json::from_str::<String>(token).unwrap_or_else(|_| inner.to_string()),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: &str = "ana@example.com";

    #[test]
    fn any_case_normal_form_and_surroundings() {
        for text in [
            "ana@example.com",
            "ANA@Example.COM",
            "  ana@example.com ",
            "\tana@example.com\n",
            "\u{a0}ana@example.com\u{3000}",
            "mailto:ana@example.com",
            "Ana Lima <ana@example.com>",
            "write to ana@example.com, please",
            "ana@example.com.",
            "email=ana@example.com&x=1",
            "\"ana@example.com\"",
            "(ana@example.com)",
            "bob@example.com;ana@example.com",
            "ana@example.com_old",
        ] {
            assert!(mentions(text, ANA), "{text:?}");
        }
        let zoe = normalize_email("zoë@example.com").into_owned();
        assert!(mentions("ZOE\u{308}@EXAMPLE.COM", &zoe));
        assert!(mentions(" zoe\u{308}@example.com ", &zoe));
        let strasse = normalize_email("straße@example.com").into_owned();
        assert!(mentions("<STRASSE@example.com>", &strasse));
    }

    #[test]
    fn not_where_it_is_part_of_a_longer_address() {
        for text in [
            "hana@example.com",
            "h.ana@example.com",
            "x_ana@example.com",
            "x-ana@example.com",
            "x+ana@example.com",
            "ana@example.com.br",
            "ana@example.community",
            "ana@example.com-mail.net",
            "ana@example.co",
            "anna@example.com",
            "no at sign here: ana example.com",
            "",
        ] {
            assert!(!mentions(text, ANA), "{text:?}");
        }
        // A combining mark after the address changes its last letter.
        assert!(!mentions("ana@example.com\u{301}", ANA));
    }

    #[test]
    fn a_later_occurrence_counts_when_an_earlier_one_does_not() {
        assert!(mentions("hana@example.com, ana@example.com", ANA));
        assert!(mentions("ana@example.com.br ana@example.com", ANA));
    }

    #[test]
    fn every_string_of_a_json_text_keys_included() {
        for json in [
            r#""ana@example.com""#,
            r#"{"user": {"email": " ANA@example.com "}}"#,
            r#"{"ana@example.com": 1}"#,
            r#"[[[[{"note": "from <ana@example.com>"}]]]]"#,
            r#"{"x": "escaped \"quote\" then ana\u0040example.com"}"#,
            r#"{"a": "\\", "b": "ana@example.com"}"#,
        ] {
            assert!(json_mentions(json, ANA), "{json}");
        }
        for json in [
            r#"{"user": {"email": "hana@example.com"}, "n": 1}"#,
            r#"{"ana": "example.com", "at": "@"}"#,
            r#"{"a": "\\\"", "b": "x"}"#,
            "42",
            "",
        ] {
            assert!(!json_mentions(json, ANA), "{json}");
        }
        let deep = format!(
            "{}\"ana@example.com\"{}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(json_mentions(&deep, ANA));
    }
}
