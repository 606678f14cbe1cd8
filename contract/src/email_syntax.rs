//! Which text is an e-mail address: the mailbox syntax of RFC 5321 and RFC 5322,
//! with the Unicode of RFC 6531 (SMTPUTF8), narrowed to what a person types into
//! an app's sign-up form.
//!
//! `local-part@domain`, where
//! - the local part is a dot-atom: runs of `atext` (ASCII letters and digits,
//!   ``!#$%&'*+-/=?^_`{|}~``, and any character beyond ASCII) separated by single
//!   dots, with no dot at either end. Quoted local parts (`"ana lima"@x`), which
//!   RFC 5321 allows, are refused: they let one mailbox be written several ways
//!   and bring spaces and `@` into the address, and no person signs up with one;
//! - the domain is labels separated by single dots: ASCII letters, digits and
//!   hyphens, or characters beyond ASCII (RFC 6531's U-labels, whose finer rules,
//!   IDNA2008, are not checked), with no hyphen at either end of a label. Address
//!   literals (`ana@[192.0.2.1]`) are refused: no person's address at an app is
//!   written so.
//!
//! Beyond ASCII, whitespace (such as U+00A0 and U+3000) and control characters
//! (U+0080 to U+009F) are refused everywhere. So a scheme (`mailto:ana@x`), a
//! display name (`Ana <ana@x>`), a comment (`ana@x (home)`) or a space anywhere is
//! not an address. The lengths of RFC 5321's section 4.5.3 (64 octets for the
//! local part, 63 for a label) are not checked: the address identifies a person
//! here, nothing is sent to it, and only the total length (`MAX_EMAIL_CHARS`, on
//! the stored form) bounds what is stored.

use std::fmt;

/// What makes a text not an address. Each names the first problem found, reading
/// from the left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressProblem {
    NoAt,
    MoreThanOneAt,
    EmptyLocalPart,
    EmptyDomain,
    /// A space or another whitespace character, anywhere.
    Whitespace(char),
    /// A control character, anywhere.
    Control(char),
    /// A character that may not stand in the local part (`:`, `<`, `(`, `"`, ...).
    LocalPartCharacter(char),
    /// A character that may not stand in the domain (`_`, `:`, `>`, ...).
    DomainCharacter(char),
    /// A dot at either end of the local part, or two in a row.
    LocalPartDots,
    /// A dot at either end of the domain, or two in a row.
    EmptyLabel,
    /// A label that starts or ends with a hyphen.
    LabelHyphen,
    /// `[192.0.2.1]` or `[IPv6:...]` after the `@`.
    AddressLiteral,
}

impl fmt::Display for AddressProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressProblem::NoAt => f.write_str("it has no @"),
            AddressProblem::MoreThanOneAt => f.write_str("it has more than one @"),
            AddressProblem::EmptyLocalPart => f.write_str("nothing before the @"),
            AddressProblem::EmptyDomain => f.write_str("nothing after the @"),
            AddressProblem::Whitespace(c) => {
                write!(f, "whitespace ({}) is not allowed", code_point(*c))
            }
            AddressProblem::Control(c) => {
                write!(f, "a control character ({}) is not allowed", code_point(*c))
            }
            AddressProblem::LocalPartCharacter(c) => {
                write!(f, "'{c}' is not allowed before the @")
            }
            AddressProblem::DomainCharacter(c) => {
                write!(f, "'{c}' is not allowed in the domain")
            }
            AddressProblem::LocalPartDots => f.write_str(
                "the part before the @ must not start or end with a dot or have two in a row",
            ),
            AddressProblem::EmptyLabel => {
                f.write_str("the domain must not start or end with a dot or have two in a row")
            }
            AddressProblem::LabelHyphen => {
                f.write_str("a label of the domain must not start or end with a hyphen")
            }
            AddressProblem::AddressLiteral => {
                f.write_str("address literals such as [192.0.2.1] are not accepted")
            }
        }
    }
}

fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Characters beyond ASCII that no part of an address may hold: whitespace and
/// control characters. (The JSON Schema's pattern lists the same ones.)
fn forbidden_beyond_ascii(c: char) -> bool {
    !c.is_ascii() && (c.is_whitespace() || c.is_control())
}

/// RFC 5322's `atext`, with RFC 6531's characters beyond ASCII.
pub fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || is_utf8_non_ascii(c)
}

/// A character of a domain label other than the hyphen.
pub fn is_label_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_utf8_non_ascii(c)
}

fn is_utf8_non_ascii(c: char) -> bool {
    !c.is_ascii() && !forbidden_beyond_ascii(c)
}

/// Whether `address` is an e-mail address by the rule above; the first problem
/// otherwise. Applied to the stored form (see `normalize_email`).
pub fn check_address(address: &str) -> Result<(), AddressProblem> {
    if let Some(c) = address.chars().find(|c| c.is_whitespace()) {
        return Err(AddressProblem::Whitespace(c));
    }
    if let Some(c) = address.chars().find(|c| c.is_control()) {
        return Err(AddressProblem::Control(c));
    }
    let (local, domain) = address.split_once('@').ok_or(AddressProblem::NoAt)?;
    if domain.contains('@') {
        return Err(AddressProblem::MoreThanOneAt);
    }
    check_local_part(local)?;
    check_domain(domain)
}

fn check_local_part(local: &str) -> Result<(), AddressProblem> {
    if local.is_empty() {
        return Err(AddressProblem::EmptyLocalPart);
    }
    if let Some(c) = local.chars().find(|&c| c != '.' && !is_atext(c)) {
        return Err(AddressProblem::LocalPartCharacter(c));
    }
    if local.split('.').any(str::is_empty) {
        return Err(AddressProblem::LocalPartDots);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), AddressProblem> {
    if domain.is_empty() {
        return Err(AddressProblem::EmptyDomain);
    }
    if domain.starts_with('[') {
        return Err(AddressProblem::AddressLiteral);
    }
    if let Some(c) = domain
        .chars()
        .find(|&c| c != '.' && c != '-' && !is_label_character(c))
    {
        return Err(AddressProblem::DomainCharacter(c));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(AddressProblem::EmptyLabel);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(AddressProblem::LabelHyphen);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_people_sign_up_with_are_accepted() {
        for good in [
            "ana@example.com",
            "ana.lima+metrics@example.co.uk",
            "a@b",
            "o'neil@example.ie",
            "x!#$%&'*+-/=?^_`{|}~@example.com",
            "zoë@bücher.de",
            "δοκιμή@παράδειγμα.δοκιμή",
            "用户@例子.广告",
            "ana@xn--bcher-kva.example",
            "ana@123.example",
        ] {
            assert_eq!(check_address(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn schemes_display_names_spaces_and_quotes_are_refused() {
        for (bad, problem) in [
            ("mailto:ana@x.com", AddressProblem::LocalPartCharacter(':')),
            ("Ana <ana@x.com>", AddressProblem::Whitespace(' ')),
            ("<ana@x.com>", AddressProblem::LocalPartCharacter('<')),
            ("ana@x.com (home)", AddressProblem::Whitespace(' ')),
            ("ana@x.com(home)", AddressProblem::DomainCharacter('(')),
            ("\"ana\"@x.com", AddressProblem::LocalPartCharacter('"')),
            ("ana\u{a0}@x.com", AddressProblem::Whitespace('\u{a0}')),
            ("ana\u{3000}@x.com", AddressProblem::Whitespace('\u{3000}')),
            ("ana\u{85}@x.com", AddressProblem::Whitespace('\u{85}')),
            ("ana\u{9f}@x.com", AddressProblem::Control('\u{9f}')),
            ("ana.x.com", AddressProblem::NoAt),
            ("a@b@c", AddressProblem::MoreThanOneAt),
            ("@x.com", AddressProblem::EmptyLocalPart),
            ("ana@", AddressProblem::EmptyDomain),
            (".ana@x.com", AddressProblem::LocalPartDots),
            ("ana.@x.com", AddressProblem::LocalPartDots),
            ("a..na@x.com", AddressProblem::LocalPartDots),
            ("ana@x..com", AddressProblem::EmptyLabel),
            ("ana@x.com.", AddressProblem::EmptyLabel),
            ("ana@.x.com", AddressProblem::EmptyLabel),
            ("ana@-x.com", AddressProblem::LabelHyphen),
            ("ana@x-.com", AddressProblem::LabelHyphen),
            ("ana@x_y.com", AddressProblem::DomainCharacter('_')),
            ("ana@[192.0.2.1]", AddressProblem::AddressLiteral),
            ("ana@[IPv6:2001:db8::1]", AddressProblem::AddressLiteral),
            ("ana\\@x.com", AddressProblem::LocalPartCharacter('\\')),
            ("ana,bob@x.com", AddressProblem::LocalPartCharacter(',')),
        ] {
            assert_eq!(check_address(bad), Err(problem), "{bad}");
        }
    }

    #[test]
    fn problems_read_as_sentences() {
        assert_eq!(
            AddressProblem::LocalPartCharacter(':').to_string(),
            "':' is not allowed before the @"
        );
        assert_eq!(
            AddressProblem::Whitespace('\u{a0}').to_string(),
            "whitespace (U+00A0) is not allowed"
        );
    }
}
