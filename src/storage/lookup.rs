//! What is already stored of a batch, found by one statement
//! (`sql/queries/lookup.sql`, `lookup_citus.sql` on Citus; more for a long batch,
//! see `lookup`): its users with their e-mail and name, their erasures by
//! forget_user, its sessions, and the event_ids its users stored before, looked
//! for in the sessions found only (on Citus, everywhere). Sessions and event_ids
//! are given back as the batch spells them (borrowed), so looking an event's up
//! allocates nothing.

use super::key_hash::{HashMap, HashSet};

use super::slices::{slice, slices_for, SLICE};
use crate::error::{Error, Result};
use crate::sql::*;
use std::collections::BTreeSet;

/// A stored user: its e-mail (in canonical form) and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub email: String,
    pub name: Option<String>,
}

/// What to look up: user keys (sorted, each once), (user key, session id) pairs
/// (each once), and (user key, event_id, session id) triples: an event_id is
/// looked for if its session is found (each triple once).
#[derive(Default)]
pub struct Wanted<'e> {
    pub user_keys: Vec<i64>,
    pub sessions: Vec<(i64, &'e str)>,
    pub event_ids: Vec<(i64, &'e str, &'e str)>,
}

/// What was found of what was wanted.
#[derive(Default)]
pub struct Found<'e> {
    pub users: HashMap<i64, StoredUser>,
    /// Per erased user key, its latest erasure (microseconds since the Unix epoch).
    pub erased: HashMap<i64, i64>,
    /// Per existing session, its row id.
    pub sessions: HashMap<(i64, &'e str), i64>,
    /// The event_ids already stored.
    pub event_ids: HashSet<(i64, &'e str)>,
}

result_row! {
    /// One thing found, as lookup returns it (see the statement for each kind).
    pub struct FoundRow {
        kind: String,
        user_key: i64,
        text: Option<String>,
        name: Option<String>,
        number: Option<i64>,
    }
}

/// Looks up what is stored of `wanted`: in one statement, or, when a list is
/// longer than a slice (see `slices`), users and sessions one slice per statement
/// first, then the event_ids of the events in the sessions found, with those
/// sessions, one slice per statement. The lookup takes no lock, so slices change
/// nothing of what concurrent calls can do; like the statements that follow it, a
/// slice may see rows committed after an earlier one, which ingestion handles as
/// it does for rows created after the lookup.
pub fn lookup<'e>(wanted: &Wanted<'e>) -> Result<Found<'e>> {
    let mut found = Found::default();
    let lists = [
        wanted.user_keys.len(),
        wanted.sessions.len(),
        wanted.event_ids.len(),
    ];
    if slices_for(&lists) == 1 {
        lookup_slice(
            &wanted.user_keys,
            &wanted.sessions,
            &wanted.event_ids,
            &mut found,
        )?;
        return Ok(found);
    }
    for index in 0..slices_for(&lists[..2]) {
        lookup_slice(
            slice(&wanted.user_keys, index),
            slice(&wanted.sessions, index),
            &[],
            &mut found,
        )?;
    }
    let in_found: Vec<(i64, &'e str, &'e str)> = wanted
        .event_ids
        .iter()
        .filter(|&&(key, _, session)| found.sessions.contains_key(&(key, session)))
        .copied()
        .collect();
    for index in 0..in_found.len().div_ceil(SLICE) {
        let part = slice(&in_found, index);
        let sessions: BTreeSet<(i64, &'e str)> = part
            .iter()
            .map(|&(key, _, session)| (key, session))
            .collect();
        let sessions: Vec<(i64, &'e str)> = sessions.into_iter().collect();
        lookup_slice(&[], &sessions, part, &mut found)?;
    }
    Ok(found)
}

/// One statement of the lookup, adding what it finds to `found`.
fn lookup_slice<'e>(
    user_keys: &[i64],
    wanted_sessions: &[(i64, &'e str)],
    wanted_event_ids: &[(i64, &'e str, &'e str)],
    found: &mut Found<'e>,
) -> Result<()> {
    let statement = if citus_loaded() {
        &LOOKUP_CITUS
    } else {
        &LOOKUP
    };
    let rows = read(
        statement,
        || {
            let (session_keys, session_ids): (Vec<i64>, Vec<&str>) =
                wanted_sessions.iter().copied().unzip();
            let mut event_keys = Vec::with_capacity(wanted_event_ids.len());
            let mut event_ids = Vec::with_capacity(wanted_event_ids.len());
            let mut event_sessions = Vec::with_capacity(wanted_event_ids.len());
            for &(key, id, session) in wanted_event_ids {
                event_keys.push(key);
                event_ids.push(id);
                event_sessions.push(session);
            }
            Ok(vec![
                user_keys.to_vec().into(),
                session_keys.into(),
                session_ids.into(),
                event_keys.into(),
                event_ids.into(),
                event_sessions.into(),
            ])
        },
        FoundRow::read,
    )?;
    // The batch's spelling of what the rows name (keys borrowed for the lookup only).
    let sessions: HashMap<(i64, &str), &'e str> = wanted_sessions
        .iter()
        .map(|&(k, id)| ((k, id), id))
        .collect();
    let event_ids: HashMap<(i64, &str), &'e str> = wanted_event_ids
        .iter()
        .map(|&(k, id, _)| ((k, id), id))
        .collect();
    for row in rows {
        let missing =
            |column: &str| Error::Internal(format!("lookup: a {} row without {column}", row.kind));
        match row.kind.as_str() {
            "user" => {
                let email = row.text.clone().ok_or_else(|| missing("text"))?;
                found.users.insert(
                    row.user_key,
                    StoredUser {
                        email,
                        name: row.name.clone(),
                    },
                );
            }
            "erased" => {
                let at = row.number.ok_or_else(|| missing("number"))?;
                let latest = found.erased.entry(row.user_key).or_insert(at);
                *latest = (*latest).max(at);
            }
            "session" => {
                let id = row.number.ok_or_else(|| missing("number"))?;
                let text = row.text.as_deref().ok_or_else(|| missing("text"))?;
                if let Some(&text) = sessions.get(&(row.user_key, text)) {
                    found.sessions.insert((row.user_key, text), id);
                }
            }
            "event" => {
                let text = row.text.as_deref().ok_or_else(|| missing("text"))?;
                if let Some(&text) = event_ids.get(&(row.user_key, text)) {
                    found.event_ids.insert((row.user_key, text));
                }
            }
            other => return Err(Error::Internal(format!("lookup: unknown kind {other:?}"))),
        }
    }
    Ok(())
}
