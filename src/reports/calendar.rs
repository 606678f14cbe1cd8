//! Local days in a time zone of the tz database, for the weekly report: where a
//! day begins, read from the zone's own list of changes of the clocks.
//!
//! A local day begins at the first instant whose local date is that day or
//! later. That is local midnight on most days; where the clocks go back at
//! midnight (America/Havana, 2025-11-02: 01:00 becomes 00:00 again) midnight
//! happens twice and the day begins at the first; where they jump over midnight
//! (America/Havana, 2025-03-09: 00:00 becomes 01:00) it begins at the jump; a day
//! skipped whole (Pacific/Apia, 2011-12-30) begins and ends at the same instant.
//! PostgreSQL's `date::timestamp AT TIME ZONE` picks the second midnight in the
//! first case, as its documentation says, hence this module.

use std::ffi::CString;
use std::ptr::NonNull;

use pgrx::datum::{Date, TimestampWithTimeZone};
use pgrx::pg_sys;

use crate::error::{Error, Result};

const SECS_PER_DAY: i64 = 86_400;
/// Seconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const POSTGRES_EPOCH_UNIX_SECS: i64 = 946_684_800;
/// More changes of the clocks than any zone has in two days.
const MAX_CHANGES_IN_TWO_DAYS: usize = 64;

/// A zone of the tz database, loaded by PostgreSQL from its time zone directory.
pub struct Zone {
    tz: NonNull<pg_sys::pg_tz>,
}

impl Zone {
    /// The zone of this name: a name of the tz database as `pg_timezone_names`
    /// lists them (any case), `UTC` among them. Offsets (`+03:00`), POSIX rules
    /// (`UTC+3`, `EST5EDT,M3.2.0,M11.1.0`) and abbreviations (`CEST`), which
    /// `AT TIME ZONE` takes, are refused: PostgreSQL reads `+03:00` and `UTC+3` as
    /// three hours *west* of UTC, and an abbreviation follows no change of the
    /// clocks.
    pub fn named(name: &str) -> Result<Zone> {
        let unknown = || Error::UnknownTimeZone(name.to_string());
        if name.is_empty() || name.starts_with(':') {
            return Err(unknown());
        }
        // A leading ':' makes pg_tzset load the name from the time zone directory
        // and nothing else: it then never reads the name as a POSIX rule.
        let file_only = CString::new(format!(":{name}")).map_err(|_| unknown())?;
        // SAFETY: pg_tzset reads the NUL-terminated name, which outlives the call,
        // and returns NULL or a zone in PostgreSQL's cache, which is never freed
        // while the backend lives.
        let tz =
            NonNull::new(unsafe { pg_sys::pg_tzset(file_only.as_ptr()) }).ok_or_else(unknown)?;
        // SAFETY: tz is a loaded zone (above). pg_timezone_names leaves out the
        // zones this refuses: those that count leap seconds ("right/...").
        if !unsafe { pg_sys::pg_tz_acceptable(tz.as_ptr()) } {
            return Err(unknown());
        }
        Ok(Zone { tz })
    }

    /// The first instant of the local day `day`; see the module's comment.
    pub fn day_start(&self, day: Date) -> Result<TimestampWithTimeZone> {
        if !day.is_finite() {
            return Err(Error::DateOutOfRange(
                "the week must end on a finite date".into(),
            ));
        }
        let target = i64::from(day.to_unix_epoch_days()) * SECS_PER_DAY;
        let start = self.first_local_instant_at_or_after(target)?;
        start
            .checked_sub(POSTGRES_EPOCH_UNIX_SECS)
            .and_then(|secs| secs.checked_mul(1_000_000))
            .and_then(|micros| TimestampWithTimeZone::try_from(micros).ok())
            .ok_or_else(|| Error::DateOutOfRange(format!("date {day} out of range for timestamp")))
    }

    /// The first instant (Unix seconds) whose local time, in seconds since the
    /// Unix epoch as if the zone were UTC, is `target` or later. Walks the zone's
    /// changes of the clocks from two days before, where local time is surely
    /// earlier (no zone is a day away from UTC): between two changes local time
    /// runs with the offset in force, so it reaches `target` either on the way
    /// (`target - offset`) or by a change's jump.
    fn first_local_instant_at_or_after(&self, target: i64) -> Result<i64> {
        let mut from: pg_sys::pg_time_t = target - 2 * SECS_PER_DAY;
        for _ in 0..MAX_CHANGES_IN_TWO_DAYS {
            let next = self.next_change(from)?;
            let reached = target - next.offset;
            match next.change {
                Some((at, offset_after)) if reached >= at => {
                    if at + offset_after >= target {
                        return Ok(at);
                    }
                    from = at;
                }
                // No change before local time reaches the target.
                _ => return Ok(reached),
            }
        }
        Err(Error::Internal(format!(
            "more than {MAX_CHANGES_IN_TWO_DAYS} changes of the clocks in two days"
        )))
    }

    /// The offset in force at `at`, and the next change of it, if any: when, and
    /// the offset from then on.
    fn next_change(&self, at: pg_sys::pg_time_t) -> Result<NextChange> {
        let (mut offset, mut is_dst) = (0, 0);
        let (mut change_at, mut offset_after, mut is_dst_after) = (0, 0, 0);
        // SAFETY: every pointer is to a local of this frame, and the zone is one
        // PostgreSQL loaded (see `named`); the function only reads the zone.
        let found = unsafe {
            pg_sys::pg_next_dst_boundary(
                &at,
                &mut offset,
                &mut is_dst,
                &mut change_at,
                &mut offset_after,
                &mut is_dst_after,
                self.tz.as_ptr(),
            )
        };
        match found {
            0 => Ok(NextChange {
                offset,
                change: None,
            }),
            1 => Ok(NextChange {
                offset,
                change: Some((change_at, offset_after)),
            }),
            _ => Err(Error::Internal(format!(
                "the time zone's changes could not be read at {at}"
            ))),
        }
    }
}

struct NextChange {
    /// Seconds east of UTC in force at the instant asked about.
    offset: i64,
    /// When the offset next changes (Unix seconds), and to what.
    change: Option<(i64, i64)>,
}
