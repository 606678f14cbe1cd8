//! A `jsonb` argument received as PostgreSQL holds it.
//!
//! pgrx's own `JsonB` parses the whole document into a `serde_json::Value`, which
//! costs several times the payload in memory, has a recursion limit, and cannot hold
//! numbers beyond a double. ingest_metrics walks the binary document in place
//! instead (`ingest::binary_json`), so that it can split a batch into events and
//! judge each one on its own without printing the argument as text and parsing it
//! again.

use pgrx::callconv::{Arg, ArgAbi};
use pgrx::nullable::Nullable;
use pgrx::prelude::*;

/// A jsonb argument, detoasted, borrowed for the call: a batch's payload is held in
/// memory once, as PostgreSQL parsed it.
pub struct JsonbArg<'fcx>(&'fcx pg_sys::Jsonb);

impl<'fcx> JsonbArg<'fcx> {
    /// The document's top container.
    pub fn root(&self) -> &'fcx pg_sys::JsonbContainer {
        &self.0.root
    }

    /// The document's size in bytes, as PostgreSQL holds it.
    pub fn size(&self) -> usize {
        // SAFETY: a detoasted varlena (see `from_polymorphic_datum`), alive for 'fcx.
        unsafe { pgrx::varsize_any(std::ptr::from_ref(self.0).cast()) }
    }
}

impl<'fcx> FromDatum for JsonbArg<'fcx> {
    /// # Safety
    /// pgrx calls this with a datum of the argument's SQL type, which is jsonb
    /// (`impl_sql_translatable!` below declares it so), or with `is_null` set.
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<JsonbArg<'fcx>> {
        if is_null {
            return None;
        }
        // SAFETY: `datum` is a non-null jsonb (the caller's promise). A value
        // stored out of line or compressed is detoasted into a copy palloc'd in the
        // current memory context, the function call's, which outlives 'fcx; an
        // in-line one is returned as it is, and lives as long as the argument.
        let jsonb = unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) };
        // SAFETY: a detoasted jsonb is a varlena whose data is a Jsonb.
        unsafe { jsonb.cast::<pg_sys::Jsonb>().as_ref() }.map(JsonbArg)
    }
}

// SAFETY: both methods unbox the argument with `FromDatum` above, whose own
// promise pgrx keeps: the argument's SQL type is jsonb.
unsafe impl<'fcx> ArgAbi<'fcx> for JsonbArg<'fcx> {
    /// # Safety
    /// pgrx calls this only for an argument it knows is not NULL (a STRICT
    /// function's); a NULL would still end in a panic, which pgrx turns into an
    /// ERROR, not in undefined behaviour.
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: the argument is a jsonb datum of this call, per the impl's promise.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }

    /// # Safety
    /// As for `unbox_arg_unchecked`, except that the argument may be NULL.
    unsafe fn unbox_nullable_arg(arg: Arg<'_, 'fcx>) -> Nullable<Self> {
        // SAFETY: as above; a NULL argument gives None, i.e. Nullable::Null.
        unsafe { arg.unbox_arg_using_from_datum() }.into()
    }
}

pgrx::impl_sql_translatable!(JsonbArg<'_>, arg_only = "jsonb");
