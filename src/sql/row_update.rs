//! One row changed without a statement: found by its primary key, locked, and
//! updated by PostgreSQL's own routine for applying a row change
//! (`ExecSimpleRelationUpdate`, what logical replication applies an UPDATE
//! with). The table's CHECK constraints, its indexes and MVCC apply as for an
//! `UPDATE`, and the change commits or rolls back with the caller's transaction;
//! what it saves is the statement around it: no plan, no executor start, no
//! `ON CONFLICT`. For rows that every call changes, where that setting up costs
//! more than the change itself.
//!
//! It declines, changing nothing, when the row is not there (the caller inserts
//! it with a statement), when the table has no primary key, or when it has
//! something that a statement would honour and this does not set up: triggers
//! (a DBA's audit trigger, say), rules, row-level security, or a relation that
//! is not a plain table.
//!
//! The row is found as logical replication finds it (a dirty snapshot, then the
//! latest version locked), so under REPEATABLE READ a row that another
//! transaction changed since the snapshot is updated, where an `UPDATE` would
//! fail to serialize. Meant for rows that only the calling backend writes (its
//! counters), where no other transaction changes them.

use pgrx::{pg_sys, PgTupleDesc};
use std::ffi::CStr;

use super::direct_write::init_range_table;
use super::prepared_expressions::use_prepared_checks;
use crate::error::{Error, Result};

/// The columns of a row being changed, by name: read its values, set new ones.
pub struct Row {
    slot: *mut pg_sys::TupleTableSlot,
}

/// The position of `column` among the attributes of `desc`, when it has one of
/// type `type_oid` (any type: None).
pub(super) fn position(
    desc: pg_sys::TupleDesc,
    column: &str,
    type_oid: Option<pg_sys::Oid>,
) -> Result<usize> {
    // SAFETY: `desc` is the table's descriptor, valid while the relation is open;
    // the wrapper neither frees it nor changes its reference count.
    let desc = unsafe { PgTupleDesc::from_pg_unchecked(desc) };
    desc.iter()
        .position(|a| {
            !a.is_dropped() && a.name() == column && type_oid.is_none_or(|t| a.atttypid == t)
        })
        .ok_or_else(|| {
            Error::Internal(format!(
                "no column {column} of the expected type for a row update"
            ))
        })
}

impl Row {
    fn get(&self, column: &str, type_oid: pg_sys::Oid) -> Result<Option<i64>> {
        // SAFETY: the slot is virtual, with every attribute filled in (see
        // `update_row`), and `i` is within them; an int8 or timestamptz Datum holds
        // the value itself.
        unsafe {
            let i = position((*self.slot).tts_tupleDescriptor, column, Some(type_oid))?;
            Ok((!*(*self.slot).tts_isnull.add(i))
                .then(|| (*(*self.slot).tts_values.add(i)).value() as i64))
        }
    }

    fn set(&mut self, column: &str, type_oid: pg_sys::Oid, value: Option<i64>) -> Result<()> {
        // SAFETY: as in `get`; the slot's arrays are its own.
        unsafe {
            let i = position((*self.slot).tts_tupleDescriptor, column, Some(type_oid))?;
            *(*self.slot).tts_values.add(i) = pg_sys::Datum::from(value.unwrap_or(0));
            *(*self.slot).tts_isnull.add(i) = value.is_none();
        }
        Ok(())
    }

    /// A `bigint NOT NULL` column.
    pub fn bigint(&self, column: &str) -> Result<i64> {
        self.get(column, pg_sys::INT8OID)?
            .ok_or_else(|| Error::Internal(format!("column {column} is NULL")))
    }

    pub fn set_bigint(&mut self, column: &str, value: i64) -> Result<()> {
        self.set(column, pg_sys::INT8OID, Some(value))
    }

    /// A `timestamptz` column, in PostgreSQL's microseconds since 2000-01-01.
    pub fn timestamptz(&self, column: &str) -> Result<Option<i64>> {
        self.get(column, pg_sys::TIMESTAMPTZOID)
    }

    pub fn set_timestamptz(&mut self, column: &str, value: Option<i64>) -> Result<()> {
        self.set(column, pg_sys::TIMESTAMPTZOID, value)
    }
}

/// Finds the row of `schema.table` whose primary key is `key` (the name and value
/// of each of its columns, in any order), locks it as an `UPDATE` would, lets
/// `edit` change its columns, and writes the new version.
/// Returns false, having changed nothing, when there is no such row or the table
/// is not one this may write (see the module's comment).
pub fn update_row(
    schema: &CStr,
    table: &CStr,
    key: &[(&str, pg_sys::Datum)],
    edit: impl FnOnce(&mut Row) -> Result<()>,
) -> Result<bool> {
    // SAFETY: PostgreSQL's executor routines, called in the order logical
    // replication's apply worker calls them, inside the caller's transaction.
    // Everything allocated here is in the executor state's memory context, freed
    // at the end; if PostgreSQL raises an error on the way, the transaction's
    // abort releases the relation, its lock, the buffer pins and that memory
    // (and resets the current memory context).
    unsafe {
        let namespace = pg_sys::get_namespace_oid(schema.as_ptr(), true);
        let relid = pg_sys::get_relname_relid(table.as_ptr(), namespace);
        if relid == pg_sys::InvalidOid {
            return Ok(false);
        }
        let rel = pg_sys::table_open(relid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
        let class = (*rel).rd_rel;
        let index_oid = primary_key(rel);
        if index_oid == pg_sys::InvalidOid
            || (*class).relkind != pg_sys::RELKIND_RELATION as core::ffi::c_char
            || (*class).relrowsecurity
            || (*class).relhasrules
            || !(*rel).trigdesc.is_null()
        {
            pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
            return Ok(false);
        }
        // See rows this transaction wrote in its statement just before.
        pg_sys::CommandCounterIncrement();

        let estate = pg_sys::CreateExecutorState();
        // Everything below lives in the executor state's memory, freed with it:
        // a long transaction of one-event calls does not grow by a call's nodes.
        let caller_context = pg_sys::MemoryContextSwitchTo((*estate).es_query_cxt);
        init_range_table(estate, &[rel]);
        let rri =
            pgrx::PgBox::<pg_sys::ResultRelInfo>::alloc_node(pg_sys::NodeTag::T_ResultRelInfo)
                .into_pg();
        pg_sys::InitResultRelInfo(rri, rel, 1, std::ptr::null_mut(), 0);
        use_prepared_checks(rri);
        (*estate).es_opened_result_relations =
            pg_sys::lappend((*estate).es_opened_result_relations, rri.cast());
        (*estate).es_output_cid = pg_sys::GetCurrentCommandId(true);
        pg_sys::ExecOpenIndices(rri, false);

        let desc = (*rel).rd_att;
        let natts = (*desc).natts as usize;
        let search = pg_sys::ExecInitExtraTupleSlot(estate, desc, &pg_sys::TTSOpsVirtual);
        pg_sys::ExecClearTuple(search);
        for i in 0..natts {
            *(*search).tts_isnull.add(i) = true;
        }
        let mut result = Ok(());
        for (column, value) in key {
            match position(desc, column, None) {
                Ok(i) => {
                    *(*search).tts_values.add(i) = *value;
                    *(*search).tts_isnull.add(i) = false;
                }
                Err(e) => result = Err(e),
            }
        }
        pg_sys::ExecStoreVirtualTuple(search);

        let mut changed = false;
        if result.is_ok() {
            let found = pg_sys::table_slot_create(rel, &mut (*estate).es_tupleTable);
            if pg_sys::RelationFindReplTupleByIndex(
                rel,
                index_oid,
                pg_sys::LockTupleMode::LockTupleNoKeyExclusive,
                search,
                found,
            ) {
                pg_sys::slot_getallattrs(found);
                let new = pg_sys::ExecInitExtraTupleSlot(estate, desc, &pg_sys::TTSOpsVirtual);
                pg_sys::ExecClearTuple(new);
                for i in 0..natts {
                    *(*new).tts_values.add(i) = *(*found).tts_values.add(i);
                    *(*new).tts_isnull.add(i) = *(*found).tts_isnull.add(i);
                }
                result = edit(&mut Row { slot: new });
                if result.is_ok() {
                    pg_sys::ExecStoreVirtualTuple(new);
                    let epq = pg_sys::palloc0(std::mem::size_of::<pg_sys::EPQState>())
                        .cast::<pg_sys::EPQState>();
                    init_epq(epq, estate);
                    pg_sys::ExecSimpleRelationUpdate(rri, estate, epq, found, new);
                    pg_sys::EvalPlanQualEnd(epq);
                    changed = true;
                }
            }
        }

        pg_sys::ExecCloseIndices(rri);
        pg_sys::ExecResetTupleTable((*estate).es_tupleTable, false);
        pg_sys::MemoryContextSwitchTo(caller_context);
        pg_sys::FreeExecutorState(estate);
        // The lock stays until the transaction ends, as a statement's would.
        pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        if changed {
            pg_sys::CommandCounterIncrement();
        }
        result.map(|()| changed)
    }
}

/// The table's primary key index, or InvalidOid.
#[cfg(feature = "pg15")]
unsafe fn primary_key(rel: pg_sys::Relation) -> pg_sys::Oid {
    pg_sys::RelationGetPrimaryKeyIndex(rel)
}

#[cfg(feature = "pg18")]
unsafe fn primary_key(rel: pg_sys::Relation) -> pg_sys::Oid {
    pg_sys::RelationGetPrimaryKeyIndex(rel, false)
}

/// The re-check state that the update's BEFORE triggers would use: none run here
/// (a table with triggers is declined), but the routine takes one.
#[cfg(feature = "pg15")]
pub(super) unsafe fn init_epq(epq: *mut pg_sys::EPQState, estate: *mut pg_sys::EState) {
    pg_sys::EvalPlanQualInit(epq, estate, std::ptr::null_mut(), std::ptr::null_mut(), -1);
}

#[cfg(feature = "pg18")]
pub(super) unsafe fn init_epq(epq: *mut pg_sys::EPQState, estate: *mut pg_sys::EState) {
    pg_sys::EvalPlanQualInit(
        epq,
        estate,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        -1,
        std::ptr::null_mut(),
    );
}
