use pgrx::prelude::*;

/// The form in which ingest_metrics stores and compares an e-mail address: Unicode
/// case folding and canonical normalization (NFC), so `Zoë@Example.com` in any
/// normal form and `zoë@example.com` are one user. For looking users up by hand.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn normalize_email(email: &str) -> String {
    user_metrics_contract::normalize_email(email).into_owned()
}

/// The key by which the tables hold a user's rows, and by which Citus distributes
/// them: 64 bits of the SHA-256 of the e-mail in the form `normalize_email` gives.
/// For finding a user's rows by hand, and on which node they are.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn user_key(email: &str) -> i64 {
    user_metrics_contract::user_key(&user_metrics_contract::normalize_email(email))
}
