//! Rows read and written without a statement, for a call whose few row changes
//! cost less than setting up the statement that would make them: a row found
//! through an index (as of a fresh snapshot, or locked in its latest version),
//! a row inserted unless a unique index already holds its key (what
//! `INSERT ... ON CONFLICT DO NOTHING` does, by the same speculative insertion),
//! and a found row changed. Each step is PostgreSQL's own routine for it (those
//! logical replication applies changes with, and `INSERT`'s), so CHECK and NOT
//! NULL constraints, column defaults, index entries, the foreign keys' checks
//! and MVCC apply as for a statement, in the caller's transaction.
//!
//! `with_writes` declines, before anything is read or written, outside READ
//! COMMITTED (where each statement sees the latest committed rows, which is what
//! these steps see) and for a table a statement would treat differently: one
//! with triggers other than its foreign keys' checks (a DBA's audit trigger),
//! rules, row-level security or generated columns, or that is not a plain table.
//! The caller then runs its statement.

use pgrx::{pg_sys, PgBox};
use std::ffi::CStr;

use super::prepared_expressions::{prepared, use_prepared_checks};
use super::row_update::{init_epq, position};
use crate::error::{Error, Result};

/// A row found or being written: its columns by name, as Datums of the column's
/// type.
pub struct Tuple {
    slot: *mut pg_sys::TupleTableSlot,
}

impl Tuple {
    /// The value of `column`, None for NULL.
    pub fn get(&self, column: &str) -> Result<Option<pg_sys::Datum>> {
        // SAFETY: every slot handed out has all its attributes deformed
        // (`slot_getallattrs` or filled in by hand), and `i` is within them.
        unsafe {
            let i = position((*self.slot).tts_tupleDescriptor, column, None)?;
            Ok((!*(*self.slot).tts_isnull.add(i)).then(|| *(*self.slot).tts_values.add(i)))
        }
    }

    /// Sets `column` (None: NULL). The Datum must be of the column's type and live
    /// as long as the writes (allocated in their memory, or by value).
    pub fn set(&mut self, column: &str, value: Option<pg_sys::Datum>) -> Result<()> {
        // SAFETY: as in `get`; the slot's arrays are its own.
        unsafe {
            let i = position((*self.slot).tts_tupleDescriptor, column, None)?;
            *(*self.slot).tts_values.add(i) = value.unwrap_or(pg_sys::Datum::from(0));
            *(*self.slot).tts_isnull.add(i) = value.is_none();
        }
        Ok(())
    }
}

/// A table opened for writing, in the order `with_writes` was given it.
#[derive(Clone, Copy)]
struct Target {
    rel: pg_sys::Relation,
    rri: *mut pg_sys::ResultRelInfo,
}

/// The tables of one set of writes, and the executor state they share.
pub struct Writes {
    namespace: pg_sys::Oid,
    estate: *mut pg_sys::EState,
    targets: Vec<Target>,
    /// Tables opened to be read (`find`), closed at the end.
    read: Vec<pg_sys::Relation>,
}

/// Opens `tables` of `schema` for writing and runs `body` with them. Returns
/// Ok(None), having read and written nothing, when the writes are declined (see
/// the module's comment); `body` returns None to decline too, and must then have
/// written nothing.
pub fn with_writes<T>(
    schema: &CStr,
    tables: &[&CStr],
    body: impl FnOnce(&mut Writes) -> Result<Option<T>>,
) -> Result<Option<T>> {
    // SAFETY: PostgreSQL's executor routines, called as logical replication's
    // apply worker calls them, inside the caller's transaction. Everything
    // allocated is in the executor state's memory, freed at the end; if
    // PostgreSQL raises an error on the way, the (sub)transaction's abort releases
    // the relations, their locks, the buffer pins, the snapshot, the trigger
    // queue's level and that memory.
    unsafe {
        if pg_sys::XactIsoLevel != pg_sys::XACT_READ_COMMITTED as i32 {
            return Ok(None);
        }
        let namespace = pg_sys::get_namespace_oid(schema.as_ptr(), true);
        let mut rels = Vec::with_capacity(tables.len());
        for table in tables {
            let relid = pg_sys::get_relname_relid(table.as_ptr(), namespace);
            if relid == pg_sys::InvalidOid {
                close(&rels);
                return Ok(None);
            }
            let rel = pg_sys::table_open(relid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
            rels.push(rel);
            if !writable(rel) {
                close(&rels);
                return Ok(None);
            }
        }
        // See the rows this transaction wrote before, in this command too.
        pg_sys::CommandCounterIncrement();

        let estate = pg_sys::CreateExecutorState();
        let caller_context = pg_sys::MemoryContextSwitchTo((*estate).es_query_cxt);
        init_range_table(estate, &rels);
        let mut targets = Vec::with_capacity(rels.len());
        for (i, &rel) in rels.iter().enumerate() {
            let rri = PgBox::<pg_sys::ResultRelInfo>::alloc_node(pg_sys::NodeTag::T_ResultRelInfo)
                .into_pg();
            pg_sys::InitResultRelInfo(rri, rel, i as pg_sys::Index + 1, std::ptr::null_mut(), 0);
            use_prepared_checks(rri);
            (*estate).es_opened_result_relations =
                pg_sys::lappend((*estate).es_opened_result_relations, rri.cast());
            // With what a unique index's check for an existing key needs.
            pg_sys::ExecOpenIndices(rri, true);
            targets.push(Target { rel, rri });
        }
        (*estate).es_output_cid = pg_sys::GetCurrentCommandId(true);
        pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
        // The foreign keys' checks of the rows written are queued at this level and
        // run when it ends, as at the end of a statement.
        pg_sys::AfterTriggerBeginQuery();

        let mut writes = Writes {
            namespace,
            estate,
            targets,
            read: Vec::new(),
        };
        let result = body(&mut writes);

        pg_sys::AfterTriggerEndQuery(estate);
        pg_sys::PopActiveSnapshot();
        for target in &writes.targets {
            pg_sys::ExecCloseIndices(target.rri);
        }
        pg_sys::ExecResetTupleTable((*estate).es_tupleTable, false);
        pg_sys::MemoryContextSwitchTo(caller_context);
        pg_sys::FreeExecutorState(estate);
        // The locks stay until the transaction ends, as a statement's would.
        close(&writes.read);
        close(&rels);
        pg_sys::CommandCounterIncrement();
        result
    }
}

/// Whether `with_writes` may write to `rel`: see the module's comment.
unsafe fn writable(rel: pg_sys::Relation) -> bool {
    let class = (*rel).rd_rel;
    let constr = (*(*rel).rd_att).constr;
    if (*class).relkind != pg_sys::RELKIND_RELATION as core::ffi::c_char
        || (*class).relrowsecurity
        || (*class).relhasrules
        || (!constr.is_null() && (*constr).has_generated_stored)
    {
        return false;
    }
    let triggers = (*rel).trigdesc;
    if triggers.is_null() {
        return true;
    }
    (0..(*triggers).numtriggers as usize).all(|i| {
        let trigger = &*(*triggers).triggers.add(i);
        trigger.tgisinternal
            && pg_sys::RI_FKey_trigger_type(trigger.tgfoid) != pg_sys::RI_TRIGGER_NONE as i32
    })
}

unsafe fn close(rels: &[pg_sys::Relation]) {
    for &rel in rels {
        pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
    }
}

impl Writes {
    /// The row of `table` whose first key columns of `index` equal `key`, as the
    /// latest committed rows (and this transaction's) show it; None if there is
    /// none. Not locked.
    pub fn find(
        &mut self,
        table: &CStr,
        index: &CStr,
        key: &[pg_sys::Datum],
    ) -> Result<Option<Tuple>> {
        // SAFETY: the relation stays open until the writes end, as does the slot
        // that `scan` returns.
        unsafe {
            let relid = pg_sys::get_relname_relid(table.as_ptr(), self.namespace);
            if relid == pg_sys::InvalidOid {
                return Err(missing(table, index));
            }
            let rel = pg_sys::table_open(relid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
            self.read.push(rel);
            self.scan(rel, index, key, pg_sys::GetActiveSnapshot())
        }
    }

    /// The row of the `target`th table whose key in the unique `index` is `key`,
    /// locked as an `UPDATE` locks it, in its latest version (READ COMMITTED's
    /// rule: a row changed by a concurrent transaction since is locked as that
    /// transaction left it); None if there is none, or if it was deleted meanwhile.
    pub fn lock(
        &mut self,
        target: usize,
        index: &CStr,
        key: &[pg_sys::Datum],
    ) -> Result<Option<Tuple>> {
        let Target { rel, .. } = self.target(target)?;
        // SAFETY: as ExecLockRows locks a row: the version found, then the latest
        // one if it was updated, waiting for a transaction changing it to end. The
        // snapshot is registered while the scan and the lock use it.
        unsafe {
            // The latest committed rows: a row that a concurrent call created since
            // the writes began is found (its insert would conflict).
            let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetLatestSnapshot());
            let found = self.scan(rel, index, key, snapshot);
            let locked = match found {
                Ok(Some(row)) => {
                    let mut tid = (*row.slot).tts_tid;
                    let mut failure = pg_sys::TM_FailureData::default();
                    let result = pg_sys::table_tuple_lock(
                        rel,
                        &mut tid,
                        snapshot,
                        row.slot,
                        (*self.estate).es_output_cid,
                        pg_sys::LockTupleMode::LockTupleNoKeyExclusive,
                        pg_sys::LockWaitPolicy::LockWaitBlock,
                        pg_sys::TUPLE_LOCK_FLAG_FIND_LAST_VERSION as u8,
                        &mut failure,
                    );
                    match result {
                        pg_sys::TM_Result::TM_Ok => {
                            pg_sys::slot_getallattrs(row.slot);
                            Ok(Some(row))
                        }
                        pg_sys::TM_Result::TM_Deleted => Ok(None),
                        other => Err(Error::Internal(format!(
                            "locking a row of {}: unexpected result {other}",
                            index.to_string_lossy()
                        ))),
                    }
                }
                other => other,
            };
            pg_sys::UnregisterSnapshot(snapshot);
            locked
        }
    }

    /// The first row of `rel` that `index` finds for `key` (its first columns)
    /// under `snapshot`.
    unsafe fn scan(
        &mut self,
        rel: pg_sys::Relation,
        index: &CStr,
        key: &[pg_sys::Datum],
        snapshot: pg_sys::Snapshot,
    ) -> Result<Option<Tuple>> {
        let relid = (*rel).rd_id;
        let index_oid = pg_sys::get_relname_relid(index.as_ptr(), self.namespace);
        if index_oid == pg_sys::InvalidOid {
            return Err(missing(c"", index));
        }
        let idx = pg_sys::index_open(index_oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let form = (*idx).rd_index;
        if (*form).indrelid != relid || key.len() > (*form).indnkeyatts as usize {
            pg_sys::index_close(idx, pg_sys::NoLock as pg_sys::LOCKMODE);
            return Err(missing(c"", index));
        }
        // The scan keys, from the index's operator families, as logical
        // replication builds them.
        let keys = pg_sys::palloc0(key.len() * std::mem::size_of::<pg_sys::ScanKeyData>())
            .cast::<pg_sys::ScanKeyData>();
        for (i, &value) in key.iter().enumerate() {
            let family = *(*idx).rd_opfamily.add(i);
            let input = *(*idx).rd_opcintype.add(i);
            let equals = pg_sys::get_opfamily_member(
                family,
                input,
                input,
                pg_sys::BTEqualStrategyNumber as i16,
            );
            if equals == pg_sys::InvalidOid {
                pg_sys::index_close(idx, pg_sys::NoLock as pg_sys::LOCKMODE);
                return Err(missing(c"", index));
            }
            pg_sys::ScanKeyInit(
                keys.add(i),
                i as pg_sys::AttrNumber + 1,
                pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
                pg_sys::get_opcode(equals),
                value,
            );
            (*keys.add(i)).sk_collation = *(*idx).rd_indcollation.add(i);
        }
        let scan = begin_index_scan(rel, idx, snapshot, key.len() as i32);
        pg_sys::index_rescan(scan, keys, key.len() as i32, std::ptr::null_mut(), 0);
        let slot = pg_sys::table_slot_create(rel, &mut (*self.estate).es_tupleTable);
        let found =
            pg_sys::index_getnext_slot(scan, pg_sys::ScanDirection::ForwardScanDirection, slot);
        pg_sys::index_endscan(scan);
        pg_sys::index_close(idx, pg_sys::NoLock as pg_sys::LOCKMODE);
        if !found {
            return Ok(None);
        }
        pg_sys::slot_getallattrs(slot);
        Ok(Some(Tuple { slot }))
    }

    /// Inserts into the `target`th table a row of `values` (by column name; the
    /// other columns take their defaults), unless the unique index `arbiter`
    /// already holds its key, committed or being inserted by a transaction that
    /// then commits: `INSERT ... ON CONFLICT DO NOTHING`. Returns the row
    /// inserted, or None.
    pub fn insert(
        &mut self,
        target: usize,
        values: &[(&str, Option<pg_sys::Datum>)],
        arbiter: &CStr,
    ) -> Result<Option<Tuple>> {
        let Target { rel, rri } = self.target(target)?;
        // SAFETY: the order of ExecInsert's speculative insertion: check the
        // arbiter, insert the row with a speculative token, insert its index
        // entries, then confirm it, or take it back if a concurrent insert of the
        // same key won the race (and check again).
        unsafe {
            let arbiter_oid = pg_sys::get_relname_relid(arbiter.as_ptr(), self.namespace);
            if arbiter_oid == pg_sys::InvalidOid {
                return Err(missing(c"", arbiter));
            }
            let arbiters = pg_sys::lappend_oid(std::ptr::null_mut(), arbiter_oid);
            let mut row = self.empty_tuple(rel);
            for &(column, value) in values {
                row.set(column, value)?;
            }
            self.fill_defaults(rel, &row, values)?;
            pg_sys::ExecStoreVirtualTuple(row.slot);
            if !(*(*rel).rd_att).constr.is_null() {
                pg_sys::ExecConstraints(rri, row.slot, self.estate);
            }
            let estate = self.estate;
            loop {
                let mut conflict = pg_sys::ItemPointerData::default();
                if !check_unique(rri, row.slot, estate, &mut conflict, arbiters) {
                    return Ok(None);
                }
                let xid = pg_sys::GetCurrentTransactionId();
                let token = pg_sys::SpeculativeInsertionLockAcquire(xid);
                pg_sys::table_tuple_insert_speculative(
                    rel,
                    row.slot,
                    (*estate).es_output_cid,
                    0,
                    std::ptr::null_mut(),
                    token,
                );
                let mut lost_race = false;
                let recheck = insert_index_entries(rri, row.slot, estate, &mut lost_race, arbiters);
                pg_sys::table_tuple_complete_speculative(rel, row.slot, token, !lost_race);
                pg_sys::SpeculativeInsertionLockRelease(xid);
                if !lost_race {
                    pg_sys::ExecARInsertTriggers(
                        estate,
                        rri,
                        row.slot,
                        recheck,
                        std::ptr::null_mut(),
                    );
                    return Ok(Some(row));
                }
            }
        }
    }

    /// Writes a new version of `found` (a row of the `target`th table from
    /// `lock`) with the columns `edit` sets.
    pub fn update(
        &mut self,
        target: usize,
        found: &Tuple,
        edit: impl FnOnce(&Tuple, &mut Tuple) -> Result<()>,
    ) -> Result<()> {
        let Target { rel, rri } = self.target(target)?;
        // SAFETY: as `update_row` does it; `found` is a row of this table, locked.
        unsafe {
            let new = self.empty_tuple(rel);
            let natts = (*(*rel).rd_att).natts as usize;
            for i in 0..natts {
                *(*new.slot).tts_values.add(i) = *(*found.slot).tts_values.add(i);
                *(*new.slot).tts_isnull.add(i) = *(*found.slot).tts_isnull.add(i);
            }
            let mut new = new;
            edit(found, &mut new)?;
            pg_sys::ExecStoreVirtualTuple(new.slot);
            let epq =
                pg_sys::palloc0(std::mem::size_of::<pg_sys::EPQState>()).cast::<pg_sys::EPQState>();
            init_epq(epq, self.estate);
            pg_sys::ExecSimpleRelationUpdate(rri, self.estate, epq, found.slot, new.slot);
            pg_sys::EvalPlanQualEnd(epq);
        }
        Ok(())
    }

    fn target(&self, target: usize) -> Result<Target> {
        self.targets
            .get(target)
            .copied()
            .ok_or_else(|| Error::Internal(format!("no table {target} opened for writing")))
    }

    /// A virtual row of `rel`'s columns, all NULL.
    unsafe fn empty_tuple(&mut self, rel: pg_sys::Relation) -> Tuple {
        let slot =
            pg_sys::ExecInitExtraTupleSlot(self.estate, (*rel).rd_att, &pg_sys::TTSOpsVirtual);
        pg_sys::ExecClearTuple(slot);
        for i in 0..(*(*rel).rd_att).natts as usize {
            *(*slot).tts_isnull.add(i) = true;
        }
        Tuple { slot }
    }

    /// Sets each column of `row` that `values` does not name to its default, as
    /// an `INSERT` does (an identity column's next value, `now()`, a constant).
    unsafe fn fill_defaults(
        &mut self,
        rel: pg_sys::Relation,
        row: &Tuple,
        values: &[(&str, Option<pg_sys::Datum>)],
    ) -> Result<()> {
        let desc = pgrx::PgTupleDesc::from_pg_unchecked((*rel).rd_att);
        let context = pg_sys::MakePerTupleExprContext(self.estate);
        let prepared_defaults = prepared(rel).map(|(_, defaults)| defaults);
        for (i, attribute) in desc.iter().enumerate() {
            if attribute.is_dropped() || values.iter().any(|(c, _)| *c == attribute.name()) {
                continue;
            }
            let state = match prepared_defaults {
                Some(defaults) => *defaults.add(i),
                None => {
                    let default = pg_sys::build_column_default(rel, i as i32 + 1);
                    if default.is_null() {
                        continue;
                    }
                    pg_sys::ExecPrepareExpr(default.cast(), self.estate)
                }
            };
            if state.is_null() {
                continue;
            }
            let mut is_null = false;
            let value = pg_sys::ExecEvalExprSwitchContext(state, context, &mut is_null);
            *(*row.slot).tts_values.add(i) = value;
            *(*row.slot).tts_isnull.add(i) = is_null;
        }
        Ok(())
    }
}

fn missing(table: &CStr, index: &CStr) -> Error {
    Error::Internal(format!(
        "no index {} of table {} for a direct write",
        index.to_string_lossy(),
        table.to_string_lossy()
    ))
}

/// The executor state's range table: the tables written, in order.
#[cfg(feature = "pg15")]
pub(super) unsafe fn init_range_table(estate: *mut pg_sys::EState, rels: &[pg_sys::Relation]) {
    let mut range_table: *mut pg_sys::List = std::ptr::null_mut();
    for &rel in rels {
        range_table = pg_sys::lappend(range_table, range_entry(rel).cast());
    }
    pg_sys::ExecInitRangeTable(estate, range_table);
}

#[cfg(feature = "pg18")]
pub(super) unsafe fn init_range_table(estate: *mut pg_sys::EState, rels: &[pg_sys::Relation]) {
    let mut range_table: *mut pg_sys::List = std::ptr::null_mut();
    let mut permissions: *mut pg_sys::List = std::ptr::null_mut();
    let mut unpruned: *mut pg_sys::Bitmapset = std::ptr::null_mut();
    for (i, &rel) in rels.iter().enumerate() {
        let rte = range_entry(rel);
        pg_sys::addRTEPermissionInfo(&mut permissions, rte);
        range_table = pg_sys::lappend(range_table, rte.cast());
        unpruned = pg_sys::bms_add_member(unpruned, i as i32 + 1);
    }
    pg_sys::ExecInitRangeTable(estate, range_table, permissions, unpruned);
}

unsafe fn range_entry(rel: pg_sys::Relation) -> *mut pg_sys::RangeTblEntry {
    let rte =
        PgBox::<pg_sys::RangeTblEntry>::alloc_node(pg_sys::NodeTag::T_RangeTblEntry).into_pg();
    (*rte).rtekind = pg_sys::RTEKind::RTE_RELATION;
    (*rte).relid = (*rel).rd_id;
    (*rte).relkind = (*(*rel).rd_rel).relkind;
    (*rte).rellockmode = pg_sys::RowExclusiveLock as i32;
    rte
}

unsafe fn begin_index_scan(
    rel: pg_sys::Relation,
    idx: pg_sys::Relation,
    snapshot: pg_sys::Snapshot,
    keys: i32,
) -> pg_sys::IndexScanDesc {
    #[cfg(feature = "pg15")]
    return pg_sys::index_beginscan(rel, idx, snapshot, keys, 0);
    #[cfg(feature = "pg18")]
    return pg_sys::index_beginscan(rel, idx, snapshot, std::ptr::null_mut(), keys, 0);
}

/// Whether no row holds the key of `slot` in the `arbiters` indexes (waiting for
/// a transaction inserting one to end).
unsafe fn check_unique(
    rri: *mut pg_sys::ResultRelInfo,
    slot: *mut pg_sys::TupleTableSlot,
    estate: *mut pg_sys::EState,
    conflict: &mut pg_sys::ItemPointerData,
    arbiters: *mut pg_sys::List,
) -> bool {
    #[cfg(feature = "pg15")]
    return pg_sys::ExecCheckIndexConstraints(rri, slot, estate, conflict, arbiters);
    #[cfg(feature = "pg18")]
    return pg_sys::ExecCheckIndexConstraints(
        rri,
        slot,
        estate,
        conflict,
        std::ptr::null_mut(),
        arbiters,
    );
}

/// Inserts the index entries of the row just inserted; `lost_race`: whether an
/// arbiter index already held its key.
unsafe fn insert_index_entries(
    rri: *mut pg_sys::ResultRelInfo,
    slot: *mut pg_sys::TupleTableSlot,
    estate: *mut pg_sys::EState,
    lost_race: &mut bool,
    arbiters: *mut pg_sys::List,
) -> *mut pg_sys::List {
    #[cfg(feature = "pg15")]
    return pg_sys::ExecInsertIndexTuples(rri, slot, estate, false, true, lost_race, arbiters);
    #[cfg(feature = "pg18")]
    return pg_sys::ExecInsertIndexTuples(
        rri, slot, estate, false, true, lost_race, arbiters, false,
    );
}
