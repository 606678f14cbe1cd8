//! Weeks of local days in every zone PostgreSQL knows, around every change of the
//! clocks from 1970 to 2037: each day begins at the first instant of its local
//! date, each week is its seven days end to end, and one week ends where the
//! next begins.
//!
//! The changes are found here on their own, without the function the reports
//! use (`pg_next_dst_boundary`): by reading the UTC offset (`pg_localtime`, what
//! `AT TIME ZONE` reads) once a day, then bisecting each day where it differs
//! down to the second. The two lists must agree, which also shows that no zone
//! changes its clocks and back within a day, where the daily reading would miss
//! both. A day's beginning is then checked against `pg_localtime` only.

#[pgrx::pg_schema]
mod tests {
    use std::ffi::CString;
    use std::time::Instant;

    use pgrx::datum::{Date, TimestampWithTimeZone};
    use pgrx::prelude::*;

    use crate::reports::calendar::Zone;
    use crate::reports::weekly::local_week;

    const DAY: i64 = 86_400;
    const FROM: i64 = 0; // 1970-01-01
    const UNTIL: i64 = 2_145_916_800; // 2038-01-01
    const STEP: i64 = DAY;
    const POSTGRES_EPOCH: i64 = 946_684_800;
    const UNIX_TO_POSTGRES_DAYS: i64 = 10_957;

    struct Tz(*mut pg_sys::pg_tz);

    impl Tz {
        fn load(name: &str) -> Tz {
            let name = CString::new(name).unwrap();
            // SAFETY: a NUL-terminated name; the zone returned stays in
            // PostgreSQL's cache for the life of the backend.
            let tz = unsafe { pg_sys::pg_tzset(name.as_ptr()) };
            assert!(!tz.is_null());
            Tz(tz)
        }

        /// Seconds east of UTC at `t` (Unix seconds).
        fn offset(&self, t: i64) -> i64 {
            // SAFETY: pg_localtime reads the zone and returns a pointer to a static
            // struct, read at once.
            unsafe { (*pg_sys::pg_localtime(&t, self.0)).tm_gmtoff }
        }

        /// The local date at `t`, in days since the Unix epoch.
        fn local_day(&self, t: i64) -> i64 {
            (t + self.offset(t)).div_euclid(DAY)
        }

        /// Every instant in [FROM, UNTIL) at which the offset changes, by scanning
        /// and bisecting.
        fn changes_scanned(&self) -> Vec<i64> {
            let mut changes = Vec::new();
            let mut t = FROM - STEP;
            let mut offset = self.offset(t);
            while t < UNTIL {
                let next = t + STEP;
                let next_offset = self.offset(next);
                if next_offset != offset {
                    // The offset at `low` is the old one, at `high` the new one.
                    let (mut low, mut high) = (t, next);
                    while high - low > 1 {
                        let middle = low + (high - low) / 2;
                        if self.offset(middle) == offset {
                            low = middle;
                        } else {
                            high = middle;
                        }
                    }
                    if (FROM..UNTIL).contains(&high) {
                        changes.push(high);
                    }
                }
                (t, offset) = (next, next_offset);
            }
            changes
        }

        /// The same from the zone's own list, as the reports read it, keeping the
        /// changes of the offset (not those of the abbreviation only).
        fn changes_listed(&self) -> Vec<i64> {
            let mut changes = Vec::new();
            let mut t = FROM - 1;
            loop {
                let (mut before, mut before_dst, mut at, mut after, mut after_dst) =
                    (0, 0, 0, 0, 0);
                // SAFETY: pointers to locals; the zone is loaded.
                let found = unsafe {
                    pg_sys::pg_next_dst_boundary(
                        &t,
                        &mut before,
                        &mut before_dst,
                        &mut at,
                        &mut after,
                        &mut after_dst,
                        self.0,
                    )
                };
                if found != 1 || at >= UNTIL {
                    return changes;
                }
                if after != before {
                    changes.push(at);
                }
                t = at;
            }
        }
    }

    fn to_unix(at: TimestampWithTimeZone) -> i64 {
        let micros: i64 = at.into_inner();
        assert_eq!(micros % 1_000_000, 0);
        micros / 1_000_000 + POSTGRES_EPOCH
    }

    fn date(unix_day: i64) -> Date {
        Date::try_from((unix_day - UNIX_TO_POSTGRES_DAYS) as i32).unwrap()
    }

    /// Checks the days around one change and the weeks ending on them; returns
    /// how many days were checked.
    fn check_around(name: &str, tz: &Tz, zone: &Zone, change: i64, changes: &[i64]) -> usize {
        let first = tz.local_day(change - 1).min(tz.local_day(change)) - 1;
        let last = tz.local_day(change - 1).max(tz.local_day(change)) + 1;
        let start = |day: i64| to_unix(zone.day_start(date(day)).unwrap());
        for day in first..=last {
            let s = start(day);
            // The day has begun at s ...
            assert!(
                tz.local_day(s) >= day,
                "{name}: day {day} begins at {s}, still before it"
            );
            // ... and not before: local time only grows between two changes, so
            // the latest local time before s is at the end of a stretch, just before
            // a change or just before s.
            let window = s - 3 * DAY;
            assert!(tz.local_day(window) < day);
            assert!(
                tz.local_day(s - 1) < day,
                "{name}: day {day} began before {s}"
            );
            for &other in changes.iter().filter(|&&c| c > window && c < s) {
                assert!(
                    tz.local_day(other - 1) < day && tz.local_day(other) < day,
                    "{name}: day {day} began at or before {other}, not at {s}"
                );
            }
            // The week ending on it is its seven days end to end, and the next
            // week begins where it ends.
            let week = local_week(date(day), zone).unwrap();
            assert_eq!(
                to_unix(week.week_start),
                start(day - 7),
                "{name}: week ending {day}"
            );
            assert_eq!(to_unix(week.week_end), s, "{name}: week ending {day}");
            let next = local_week(date(day + 7), zone).unwrap();
            assert_eq!(
                next.week_start, week.week_end,
                "{name}: weeks ending {day} and after"
            );
            let days: Vec<i64> = (day - 7..=day).map(start).collect();
            assert!(
                days.windows(2).all(|pair| pair[0] <= pair[1]),
                "{name}: {days:?}"
            );
            assert_eq!(days.first(), Some(&to_unix(week.week_start)));
            assert_eq!(days.last(), Some(&to_unix(week.week_end)));
        }
        (last - first + 1) as usize
    }

    #[pg_test]
    fn every_week_of_every_zone_begins_at_the_first_instant_of_its_first_day() {
        let began = Instant::now();
        let names = Spi::get_one::<Vec<String>>(
            "SELECT array_agg(name ORDER BY name) FROM pg_catalog.pg_timezone_names",
        )
        .unwrap()
        .unwrap();
        assert!(names.len() > 400, "{} zones", names.len());
        let (mut changes_checked, mut days_checked) = (0, 0);
        for name in &names {
            let zone = Zone::named(name)
                .unwrap_or_else(|e| panic!("{name}, listed by pg_timezone_names, is refused: {e}"));
            let tz = Tz::load(name);
            let changes = tz.changes_scanned();
            assert_eq!(
                changes,
                tz.changes_listed(),
                "{name}: the two lists of changes differ"
            );
            for &change in &changes {
                days_checked += check_around(name, &tz, &zone, change, &changes);
            }
            changes_checked += changes.len();
        }
        let seconds = began.elapsed().as_secs_f64();
        pgrx::notice!(
            "{} zones, {changes_checked} changes of the clocks, {days_checked} days checked in {seconds:.1} s",
            names.len()
        );
        // About 30,000 in the 598 zones of PostgreSQL's own tz data; twice as many with
        // Debian's, which lists each zone again under posix/.
        assert!(changes_checked > 25_000, "{changes_checked} changes");
        assert!(seconds < 60.0, "{seconds:.1} s");
    }

    /// The day the clocks go back at midnight in Havana begins at the first
    /// midnight: 2025-11-02 00:00 CDT, 04:00 UTC.
    #[pg_test]
    fn havana_begins_its_day_at_the_first_of_two_midnights() {
        let zone = Zone::named("America/Havana").unwrap();
        let start = zone.day_start(Date::new(2025, 11, 2).unwrap()).unwrap();
        assert_eq!(to_unix(start), 1_762_056_000); // 2025-11-02T04:00:00Z
    }
}
