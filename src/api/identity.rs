use pgrx::prelude::*;

/// The form in which ingest_metrics stores and compares an e-mail address: Unicode
/// case folding and canonical normalization (NFC), so `Zoë@Example.com` in any
/// normal form and `zoë@example.com` are one user. For looking users up by hand.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn normalize_email(email: &str) -> String {
    user_metrics_contract::normalize_email(email).into_owned()
}
