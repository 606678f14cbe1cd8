//! A `jsonb` argument received as its JSON text.
//!
//! pgrx's own `JsonB` parses the whole document into a `serde_json::Value`, which
//! costs several times the payload in memory, has a recursion limit, and cannot hold
//! numbers beyond a double. ingest_metrics needs the text instead, so that it can
//! split a batch into events and judge each one on its own.

use pgrx::callconv::{Arg, ArgAbi};
use pgrx::nullable::Nullable;
use pgrx::prelude::*;
use std::ffi::CStr;

/// The JSON text of a jsonb value, as bytes in the database encoding. The text is
/// palloc'd in the function call's memory context and borrowed for the call, not
/// copied: a batch's payload is held in memory once.
pub struct JsonbText<'fcx>(pub &'fcx [u8]);

impl<'fcx> FromDatum for JsonbText<'fcx> {
    /// # Safety
    /// pgrx calls this with a datum of the argument's SQL type, which is jsonb
    /// (`impl_sql_translatable!` below declares it so), or with `is_null` set.
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<JsonbText<'fcx>> {
        if is_null {
            return None;
        }
        // SAFETY: `datum` is a non-null jsonb (the caller's promise), which is what
        // jsonb_out takes; it detoasts its argument itself. It returns a
        // NUL-terminated C string palloc'd in the current memory context, the
        // function call's, which outlives 'fcx: the borrow ends with the call.
        let cstr =
            unsafe { pgrx::direct_function_call::<&'fcx CStr>(pg_sys::jsonb_out, &[Some(datum)]) }?;
        Some(JsonbText(cstr.to_bytes()))
    }
}

// SAFETY: both methods unbox the argument with `FromDatum` above, whose own
// promise pgrx keeps: the argument's SQL type is jsonb.
unsafe impl<'fcx> ArgAbi<'fcx> for JsonbText<'fcx> {
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

pgrx::impl_sql_translatable!(JsonbText<'_>, arg_only = "jsonb");
