//! Long batches are stored in slices: the lookup, the sessions, the events and the
//! sessions' totals each take at most `SLICE` rows of each of their lists per
//! statement, and run as many statements as the longest list needs. A statement's
//! memory (its argument arrays, the copies that planning with their values makes,
//! its sorts and the rows it returns) grows with its rows, and is freed when it
//! ends (see `sql::run`), so a call of 100,000 events holds one slice's worth of
//! it at a time, not the whole batch's. The users a call creates or renames (one
//! per distinct user, far fewer than events) and the quarantine are still one
//! statement each.
//!
//! Slicing keeps the order of the locks: the slices of one step run one after the
//! other in the step's own order (sessions, then events, each by user key and then
//! their own id), and every slice of a step runs before the next step starts, so
//! a sliced call takes its locks in the order the one statement would, and
//! concurrent calls, sliced or not, still cannot deadlock.
//!
//! Calls of up to `SLICE` events, and of up to `SLICE` sessions, run each step as
//! one statement.

/// The most rows of one list that one statement takes.
pub const SLICE: usize = 5_000;

/// How many statements lists of these lengths need: one at least.
pub fn slices_for(lengths: &[usize]) -> usize {
    lengths
        .iter()
        .map(|n| n.div_ceil(SLICE))
        .max()
        .unwrap_or(0)
        .max(1)
}

/// The `index`-th slice of `items` (empty past its end).
pub fn slice<T>(items: &[T], index: usize) -> &[T] {
    let start = index.saturating_mul(SLICE).min(items.len());
    let end = start.saturating_add(SLICE).min(items.len());
    &items[start..end]
}
