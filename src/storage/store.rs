//! Storing a batch of valid events: users, sessions, events and running totals,
//! in a few statements for a batch of up to 5,000 events (longer ones run the
//! lookup and step 4 in slices, see `slices`):
//! 1. `lookup`: what is stored of the batch's users (their erasures too),
//!    sessions and event_ids, in one statement;
//! 2. the verdicts, in memory: repeats, erased users' old events, keys held by
//!    another e-mail, the users to create and to rename;
//! 3. `write_users`: users created and renamed, in one statement, only when some
//!    are;
//! 4. `store`: every session locked (a new one created with the totals of its
//!    events), the events inserted, and the existing sessions' totals added to, in
//!    one statement.
//!
//! The counters and ingest_stats are the call's last statement (`ingest`). Further
//! statements run only after a race with a concurrent call: users or sessions it
//! created after the lookup are looked up, and totals brought to the events
//! actually stored when it stored some of the same events first.
//!
//! A batch of more than `SLICE` events or sessions locks its sessions slice by
//! slice, then inserts its events slice by slice, then adds the totals of the
//! events stored (`store_in_slices`): the same steps in the same order.
//!
//! Concurrency: locks are taken in one order (new users, renamed users, then
//! sessions, then events, each by user key and then their own id), so concurrent
//! calls on the same users and sessions wait for each other but never deadlock.
//! Every event stored for a session is stored by a call that holds the session's
//! row lock, so its totals are exact. Every statement names the batch's user keys,
//! so that it touches only their rows (on Citus, only their shards). A call is
//! stored whole or not at all, in the caller's transaction.

use super::key_hash::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};
use user_metrics_contract::{session_totals, Event, Fate, SessionKey, SessionTotals};

use super::counters::Counts;
use super::events;
use super::keys::Keys;
use super::lookup::{lookup, Wanted};
use super::sessions::{self, Session, Sessions, State, TotalsRow};
use super::slices::{slice, slices_for, SLICE};
use super::users;
use super::verdicts::{Outcome, Verdicts};
use crate::error::{Error, Result};
use crate::sql::*;

/// Stores `events` (in batch order; `indexes` gives each one's index in the
/// payload) and returns each one's outcome, in the same order, with the rows the
/// call added. With `stop_at_conflict`, the first refused event (user_key_collision)
/// is returned as an error before any event is written.
pub fn store_events(
    events: &[Event],
    indexes: &[usize],
    stop_at_conflict: bool,
) -> Result<(Vec<Outcome>, Counts)> {
    let keys = Keys::of(events);
    let found = lookup(&wanted(events, &keys)?)?;
    let mut verdicts = Verdicts::judge(events, keys, found);
    if verdicts.all_repeats() {
        return Ok((vec![Outcome::Duplicate; events.len()], Counts::default()));
    }
    if stop_at_conflict {
        if let Some(error) = verdicts.first_refusal(indexes) {
            return Err(error);
        }
    }
    verdicts.write_users()?;
    if stop_at_conflict {
        if let Some(error) = verdicts.first_refusal(indexes) {
            return Err(error);
        }
    }
    let (outcomes, sessions_added, events_added) = store_sessions_and_events(&verdicts)?;
    let mut used = HashSet::default();
    for (event, outcome) in events.iter().zip(&outcomes) {
        if *outcome == Outcome::Stored {
            used.insert(verdicts.keys.of_email(&event.email)?);
        }
    }
    let counts = Counts {
        users: users::remove_unused(&verdicts.created_users, &used)?,
        sessions: sessions_added,
        events: count(events_added)?,
        rejected: 0,
    };
    Ok((outcomes, counts))
}

/// What the lookup asks for: every user, session and event_id of the batch (an
/// event_id with its session: it is looked for in the sessions found).
fn wanted<'e>(events: &'e [Event<'e>], keys: &Keys<'e>) -> Result<Wanted<'e>> {
    let mut sessions = BTreeSet::new();
    let mut event_ids = BTreeSet::new();
    for event in events {
        let key = keys.of_email(&event.email)?;
        sessions.insert((key, event.session_id.as_ref()));
        if let Some(id) = event.event_id.as_deref() {
            event_ids.insert((key, id, event.session_id.as_ref()));
        }
    }
    Ok(Wanted {
        user_keys: keys.sorted(),
        sessions: sessions.into_iter().collect(),
        event_ids: event_ids.into_iter().collect(),
    })
}

/// The sessions and the events. Returns each event's outcome, and how many
/// sessions and events the call added.
fn store_sessions_and_events(verdicts: &Verdicts) -> Result<(Vec<Outcome>, i64, usize)> {
    let events = verdicts.events;
    let to_store: Vec<&Event> = events
        .iter()
        .zip(&verdicts.fates)
        .filter(|(_, fate)| **fate == Fate::Store)
        .map(|(event, _)| event)
        .collect();
    if to_store.is_empty() {
        return Ok((verdicts.outcomes(&HashSet::default())?, 0, 0));
    }
    // What the batch adds to each session if every event to store is stored.
    let assumed = session_totals(events, |p| verdicts.fates[p] == Fate::Store);
    let mut sessions = Sessions::new(&assumed, &verdicts.keys, &verdicts.found.sessions)?;
    let ordered = events::in_lock_order(&to_store, &verdicts.keys)?;
    if ordered.len() > SLICE || sessions.sorted.len() > SLICE {
        return store_in_slices(verdicts, sessions, &assumed, &ordered);
    }
    let mut result = store(&sessions, &assumed, &ordered, true)?;
    sessions.created(&result.created);
    if sessions.count(|s| s == State::New) > 0 {
        // Sessions that a concurrent call created after the lookup: locked now, by
        // this call, and no event was inserted. Their ids, then the events.
        find_raced(&mut sessions)?;
        result = store(&sessions, &assumed, &ordered, false)?;
    }
    let outcomes = verdicts.outcomes(&result.stored)?;
    let stored = session_totals(events, |p| outcomes[p] == Outcome::Stored);
    let sessions_added = settle(&sessions, &assumed, &stored, &result.added)?;
    Ok((outcomes, sessions_added, result.rows))
}

/// Sessions that a concurrent call created after the lookup (still `New` after
/// the store statement locked them): their row ids, now that this call holds them.
fn find_raced(sessions: &mut Sessions) -> Result<()> {
    let raced: Vec<(i64, &str)> = sessions
        .sorted
        .iter()
        .filter(|s| s.state == State::New)
        .map(|s| (s.user_key, s.key.1))
        .collect();
    let found = lookup(&Wanted {
        sessions: raced,
        ..Wanted::default()
    })?;
    sessions.existing(&found.sessions);
    Ok(())
}

/// `store_sessions_and_events` for a batch longer than a slice: the same steps
/// in the same order, each in slices (see `slices`). Every session is locked (the
/// new ones created with their totals), slice after slice, then every event is
/// inserted, slice after slice; then `settle` adds the totals of the events
/// actually stored to the existing sessions (and corrects the created ones if a
/// concurrent call stored some of their events first), also in slices.
fn store_in_slices<'e>(
    verdicts: &Verdicts<'e>,
    mut sessions: Sessions<'e>,
    assumed: &BTreeMap<SessionKey<'e>, SessionTotals<'e>>,
    ordered: &[(i64, &'e Event<'e>)],
) -> Result<(Vec<Outcome>, i64, usize)> {
    let mut created = HashMap::default();
    for index in 0..slices_for(&[sessions.sorted.len()]) {
        let part = slice(&sessions.sorted, index);
        let lock = part
            .iter()
            .map(|session| lock_row(session, totals_of(assumed, session)?))
            .collect::<Result<Vec<_>>>()?;
        let expected_new = count(part.iter().filter(|s| s.state == State::New).count())?;
        let result = run(Run {
            lock,
            expected_new,
            events: &[],
            session_ids: &HashMap::default(),
            add: Vec::new(),
            add_if_stored: 0,
        })?;
        created.extend(result.created);
    }
    sessions.created(&created);
    if sessions.count(|s| s == State::New) > 0 {
        find_raced(&mut sessions)?;
    }
    let session_ids = sessions.id_of();
    let mut stored = Stored::default();
    for index in 0..slices_for(&[ordered.len()]) {
        let result = run(Run {
            lock: Vec::new(),
            expected_new: 0,
            events: slice(ordered, index),
            session_ids: &session_ids,
            add: Vec::new(),
            add_if_stored: 0,
        })?;
        stored.rows += result.rows;
        stored.stored.extend(result.stored);
    }
    let outcomes = verdicts.outcomes(&stored.stored)?;
    let totals = session_totals(verdicts.events, |p| outcomes[p] == Outcome::Stored);
    let sessions_added = settle(&sessions, assumed, &totals, &HashSet::default())?;
    Ok((outcomes, sessions_added, stored.rows))
}

/// The store statement's row that locks `session`, and creates it with `totals`
/// if it is new.
fn lock_row<'e>(
    session: &Session<'e>,
    totals: &SessionTotals<'e>,
) -> Result<(i64, &'e str, TotalsRow<'e>)> {
    let mut row = TotalsRow::of(totals)?;
    if session.state != State::New {
        // Only locked: its values are not used, so spare parsing the device.
        row.device = None;
    }
    Ok((session.user_key, session.key.1, row))
}

/// The totals the batch assumed for `session`.
fn totals_of<'a, 'e>(
    assumed: &'a BTreeMap<SessionKey<'e>, SessionTotals<'e>>,
    session: &Session<'e>,
) -> Result<&'a SessionTotals<'e>> {
    assumed
        .get(&session.key)
        .ok_or_else(|| Error::Internal(format!("no totals for session {:?}", session.key.1)))
}

/// One run of the store statement.
struct Run<'a, 'e> {
    /// Sessions to lock, new ones created with these totals (sorted).
    lock: Vec<(i64, &'e str, TotalsRow<'e>)>,
    /// How many of them are new.
    expected_new: i64,
    /// Events to store, in lock order, with their sessions' row ids where known.
    events: &'a [(i64, &'e Event<'e>)],
    session_ids: &'a HashMap<SessionKey<'e>, Option<i64>>,
    /// Existing sessions to add totals to (user key, row id, totals), if the
    /// statement stores exactly this many events (all it is given).
    add: Vec<(i64, i64, TotalsRow<'e>)>,
    add_if_stored: i64,
}

/// What one run of the store statement did.
#[derive(Default)]
struct Stored<'e> {
    /// The sessions it created, by user key and session id.
    created: HashMap<(i64, &'e str), i64>,
    /// The (user key, event_id) pairs of the events it stored with an event_id.
    stored: HashSet<(i64, &'e str)>,
    /// How many events it stored, with or without an event_id.
    rows: usize,
    /// The existing sessions whose totals it added to.
    added: HashSet<i64>,
}

result_row! {
    /// One row of the store statement: a session it created ('session': user key,
    /// session id, row id), an event it stored ('event': user key, event_id or
    /// NULL, session row id) or a session it added to ('added': user key, row id).
    pub struct StoreRow {
        kind: String,
        user_key: i64,
        text: Option<String>,
        number: i64,
    }
}

/// The store statement of the batch: with `lock_sessions`, every session is locked
/// (the new ones created); without, they are held already.
fn store<'e>(
    sessions: &Sessions<'e>,
    assumed: &BTreeMap<SessionKey<'e>, SessionTotals<'e>>,
    ordered: &[(i64, &'e Event<'e>)],
    lock_sessions: bool,
) -> Result<Stored<'e>> {
    let mut lock = Vec::new();
    let mut add = Vec::new();
    for session in &sessions.sorted {
        let totals = totals_of(assumed, session)?;
        if lock_sessions {
            lock.push(lock_row(session, totals)?);
        }
        if let State::Existing(id) = session.state {
            add.push((session.user_key, id, TotalsRow::of(totals)?));
        }
    }
    run(Run {
        lock,
        expected_new: count(sessions.count(|s| s == State::New))?,
        events: ordered,
        session_ids: &sessions.id_of(),
        add_if_stored: count(ordered.len())?,
        add,
    })
}

fn run<'e>(run: Run<'_, 'e>) -> Result<Stored<'e>> {
    // The batch's spelling of what the rows name (keys borrowed for the lookup only).
    let names: HashMap<(i64, &str), &'e str> = run
        .lock
        .iter()
        .map(|&(user_key, session_id, _)| ((user_key, session_id), session_id))
        .collect();
    let rows = write(
        &STORE,
        || {
            let mut args = sessions::totals_args(run.lock);
            args.push(run.expected_new.into());
            args.extend(events::args(run.events, run.session_ids)?);
            args.extend(sessions::totals_args(run.add));
            args.push(run.add_if_stored.into());
            args.push(citus_loaded().into());
            Ok(args)
        },
        StoreRow::read,
    )?;
    let ids: HashMap<(i64, &str), &'e str> = run
        .events
        .iter()
        .filter_map(|&(key, event)| {
            let id = event.event_id.as_deref()?;
            Some(((key, id), id))
        })
        .collect();
    let mut result = Stored::default();
    for row in rows {
        match row.kind.as_str() {
            "session" => {
                let text = row.text.as_deref().unwrap_or_default();
                let &session_id = names.get(&(row.user_key, text)).ok_or_else(|| {
                    Error::Internal(format!("created an unknown session {text:?}"))
                })?;
                result
                    .created
                    .insert((row.user_key, session_id), row.number);
            }
            "event" => {
                result.rows += 1;
                if let Some(id) = row.text.as_deref() {
                    let &event_id = ids.get(&(row.user_key, id)).ok_or_else(|| {
                        Error::Internal(format!("stored an unknown event {id:?}"))
                    })?;
                    result.stored.insert((row.user_key, event_id));
                }
            }
            "added" => {
                result.added.insert(row.number);
            }
            other => return Err(Error::Internal(format!("store: unknown kind {other:?}"))),
        }
    }
    Ok(result)
}

/// Brings every session to the totals of the events actually stored, where the
/// store statement could not (events that a concurrent call stored first): adds
/// them to the existing sessions it did not add to (`added`: row ids; none, when
/// it did not store every event it was given), and
/// corrects (or removes) the sessions this call created whose stored events differ
/// from those assumed. Returns how many sessions this call added in the end
/// (created, less those removed).
fn settle<'e>(
    sessions: &Sessions<'e>,
    assumed: &BTreeMap<SessionKey<'e>, SessionTotals<'e>>,
    stored: &BTreeMap<SessionKey<'e>, SessionTotals<'e>>,
    added: &HashSet<i64>,
) -> Result<i64> {
    let mut add = Vec::new();
    let mut set = Vec::new();
    let mut empty: Vec<(i64, i64)> = Vec::new();
    for session in &sessions.sorted {
        match (session.state, stored.get(&session.key)) {
            (State::Existing(id), Some(totals)) if !added.contains(&id) => {
                add.push((session.user_key, id, TotalsRow::of(totals)?));
            }
            (State::Created(id), Some(totals)) if assumed.get(&session.key) != Some(totals) => {
                set.push((session.user_key, id, TotalsRow::of(totals)?));
            }
            (State::Created(id), None) => empty.push((session.user_key, id)),
            (State::New, _) => {
                return Err(Error::Internal(format!(
                    "session {:?} was neither created nor found",
                    session.key.1
                )))
            }
            _ => {}
        }
    }
    // Each list in slices, in lock order (sessions are sorted), each slice
    // written by one statement.
    let mut add = add.into_iter().peekable();
    while add.peek().is_some() {
        run(Run {
            lock: Vec::new(),
            expected_new: 0,
            events: &[],
            session_ids: &HashMap::default(),
            add: add.by_ref().take(SLICE).collect(),
            add_if_stored: 0,
        })?;
    }
    let mut set = set.into_iter().peekable();
    while set.peek().is_some() {
        let part: Vec<_> = set.by_ref().take(SLICE).collect();
        write(
            &SET_SESSION_TOTALS,
            || Ok(sessions::totals_args(part)),
            ignore,
        )?;
    }
    let created = sessions.count(|s| matches!(s, State::Created(_)));
    let mut removed = 0;
    for part in empty.chunks(SLICE) {
        removed += write(
            &DELETE_SESSIONS,
            || {
                let (keys, ids): (Vec<i64>, Vec<i64>) = part.iter().copied().unzip();
                Ok(vec![keys.into(), ids.into()])
            },
            ignore,
        )?
        .len();
    }
    count(created - removed)
}
