//! A person's identity: the e-mail address in one canonical form.
//!
//! Two addresses name the same person when they are equal after Unicode case
//! folding and canonical normalization (the "canonical caseless match" of the
//! Unicode Standard, D145): `Zoë@x` typed with a precomposed `ë` or with `e` and a
//! combining diaeresis, `ΟΔΟΣ@x` and `οδος@x`, `STRASSE@x` and `straße@x` are one
//! person each. The stored form is NFC(case_fold(NFD(address))), so one unique
//! index on the stored text is the rule.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// The stored form of an e-mail address. Addresses that are already lower-case
/// ASCII (most of them) come back borrowed.
pub fn normalize_email(address: &str) -> Cow<'_, str> {
    if address.is_ascii() {
        if address.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(address.to_ascii_lowercase());
        }
        return Cow::Borrowed(address);
    }
    let decomposed: String = address.nfd().collect();
    Cow::Owned(caseless::default_case_fold_str(&decomposed).nfc().collect())
}
