//! Contract values to PostgreSQL values, and counts to the bigints the tables keep.

use pgrx::datum::TimestampWithTimeZone;
use user_metrics_contract::Timestamp;

use crate::error::{Error, Result};

/// Microseconds from the Unix epoch (1970) to PostgreSQL's epoch (2000-01-01).
const POSTGRES_EPOCH_IN_UNIX_MICROS: i64 = 946_684_800_000_000;

pub fn timestamptz(t: Timestamp) -> Result<TimestampWithTimeZone> {
    TimestampWithTimeZone::try_from(t.unix_micros - POSTGRES_EPOCH_IN_UNIX_MICROS)
        .map_err(|e| Error::Internal(format!("timestamp {t} out of PostgreSQL's range: {e:?}")))
}

pub fn optional_timestamptz(t: Option<Timestamp>) -> Result<Option<TimestampWithTimeZone>> {
    t.map(timestamptz).transpose()
}

/// A number of rows or events, as the bigint the tables keep.
pub fn count<N: TryInto<i64>>(n: N) -> Result<i64> {
    n.try_into()
        .map_err(|_| Error::Internal("count overflows bigint".into()))
}
