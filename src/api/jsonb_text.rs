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
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<JsonbText<'fcx>> {
        if is_null {
            return None;
        }
        // jsonb_out detoasts its argument and returns a C string palloc'd in the
        // current memory context, which lives as long as the function call.
        let cstr =
            unsafe { pgrx::direct_function_call::<&'fcx CStr>(pg_sys::jsonb_out, &[Some(datum)]) }?;
        Some(JsonbText(cstr.to_bytes()))
    }
}

unsafe impl<'fcx> ArgAbi<'fcx> for JsonbText<'fcx> {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }

    unsafe fn unbox_nullable_arg(arg: Arg<'_, 'fcx>) -> Nullable<Self> {
        unsafe { arg.unbox_arg_using_from_datum() }.into()
    }
}

pgrx::impl_sql_translatable!(JsonbText<'_>, arg_only = "jsonb");
