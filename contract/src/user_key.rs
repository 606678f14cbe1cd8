//! The user key: the column by which every table is keyed, and by which Citus
//! distributes them. It is derived from the e-mail alone, so that any statement
//! can name the users it concerns (and Citus route it to their shards) before
//! reading anything.
//!
//! A 64-bit integer rather than the e-mail itself: every session and event row
//! carries it, in its primary, unique and foreign keys, and an 8-byte key keeps
//! those tables and indexes about a third smaller than a key of e-mail text.

use sha2::{Digest, Sha256};

/// The user key of an e-mail in its canonical form (see `normalize_email`): the
/// first 8 bytes of the SHA-256 digest of its UTF-8 bytes, read as a big-endian
/// signed integer. In SQL, without the extension:
/// `('x' || left(encode(sha256(convert_to(email, 'UTF8')), 'hex'), 16))::bit(64)::bigint`.
pub fn user_key(normalized_email: &str) -> i64 {
    let digest = Sha256::digest(normalized_email.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::user_key;

    #[test]
    fn is_the_first_eight_bytes_of_sha256() {
        // `printf 'ana@x' | sha256sum` begins af5b1db5dcd17998: negative as i64.
        assert_eq!(user_key("ana@x"), 0xaf5b_1db5_dcd1_7998_u64 as i64);
        assert!(user_key("ana@x") < 0);
    }

    #[test]
    fn differs_between_addresses() {
        assert_ne!(user_key("ana@x"), user_key("ana@y"));
    }
}
