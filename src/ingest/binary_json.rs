//! The events of a call read as PostgreSQL holds them: binary jsonb, walked in
//! place. Nothing prints the argument as text and nothing parses it again: a
//! string is borrowed from the argument, a number printed by numeric_out when the
//! contract reads it, and only a value quoted in a message (or a device, or a
//! refused event's payload) is printed, by PostgreSQL's own jsonb printer, so that
//! it reads exactly as jsonb_out would print it.
//!
//! Every borrowed text lives in the call's memory (the argument, or what PostgreSQL
//! allocates while the call validates, outside any SPI connection), so it lasts as
//! long as the call, which is the lifetime `'a`.

use pgrx::pg_sys;
use std::borrow::Cow;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::ptr::NonNull;
use user_metrics_contract::{Json, JsonKind, PayloadError, MAX_EVENTS, MAX_PAYLOAD_BYTES};

use pg_sys::JsonbIteratorToken::{
    WJB_BEGIN_ARRAY, WJB_BEGIN_OBJECT, WJB_DONE, WJB_ELEM, WJB_END_ARRAY, WJB_END_OBJECT, WJB_KEY,
    WJB_VALUE,
};

/// One value of a jsonb document.
#[derive(Clone, Copy)]
pub enum BinaryJson<'a> {
    /// An object or an array.
    Container(&'a pg_sys::JsonbContainer),
    /// A string's bytes, in the database encoding (UTF8: see `split`).
    String(&'a [u8]),
    Number(NonNull<pg_sys::NumericData>, PhantomData<&'a ()>),
    Bool(bool),
    Null,
}

/// The header flags of a container.
const OBJECT: u32 = pg_sys::JB_FOBJECT;
const SCALAR: u32 = pg_sys::JB_FSCALAR;
const COUNT: u32 = pg_sys::JB_CMASK;

impl<'a> BinaryJson<'a> {
    /// A value the jsonb iterator handed over.
    ///
    /// # Safety
    /// `value` comes from `JsonbIteratorNext` over a container that lives for `'a`,
    /// which points strings, numbers and nested containers into that container.
    unsafe fn from_value(value: &pg_sys::JsonbValue) -> BinaryJson<'a> {
        // SAFETY: the union member read is the one `type_` says is set, and its
        // pointers point into the document, which lives for 'a (the caller's
        // promise).
        unsafe {
            match value.type_ {
                pg_sys::jbvType::jbvBinary => BinaryJson::Container(&*value.val.binary.data),
                pg_sys::jbvType::jbvString => BinaryJson::String(std::slice::from_raw_parts(
                    value.val.string.val.cast::<u8>(),
                    usize::try_from(value.val.string.len).unwrap_or(0),
                )),
                pg_sys::jbvType::jbvNumeric => match NonNull::new(value.val.numeric) {
                    Some(numeric) => BinaryJson::Number(numeric, PhantomData),
                    None => BinaryJson::Null,
                },
                pg_sys::jbvType::jbvBool => BinaryJson::Bool(value.val.boolean),
                _ => BinaryJson::Null,
            }
        }
    }

    /// The value as the jsonb machinery takes it.
    fn to_value(self) -> pg_sys::JsonbValue {
        let mut value = pg_sys::JsonbValue::default();
        match self {
            BinaryJson::Container(container) => {
                value.type_ = pg_sys::jbvType::jbvBinary;
                value.val.binary = pg_sys::JsonbValue__bindgen_ty_1__bindgen_ty_4 {
                    len: 0,
                    data: std::ptr::from_ref(container).cast_mut(),
                };
            }
            BinaryJson::String(bytes) => {
                value.type_ = pg_sys::jbvType::jbvString;
                value.val.string = pg_sys::JsonbValue__bindgen_ty_1__bindgen_ty_1 {
                    len: i32::try_from(bytes.len()).unwrap_or(i32::MAX),
                    val: bytes.as_ptr().cast::<std::ffi::c_char>().cast_mut(),
                };
            }
            BinaryJson::Number(numeric, _) => {
                value.type_ = pg_sys::jbvType::jbvNumeric;
                value.val.numeric = numeric.as_ptr();
            }
            BinaryJson::Bool(boolean) => {
                value.type_ = pg_sys::jbvType::jbvBool;
                value.val.boolean = boolean;
            }
            BinaryJson::Null => value.type_ = pg_sys::jbvType::jbvNull,
        }
        value
    }
}

/// Calls `each` with every token of `container` and its value: its members (keys
/// and values) or elements, nested containers as values (`skip_nested`), or every
/// token of the whole tree (not `skip_nested`).
fn walk(
    container: &pg_sys::JsonbContainer,
    skip_nested: bool,
    mut each: impl FnMut(pg_sys::JsonbIteratorToken::Type, &pg_sys::JsonbValue),
) {
    // SAFETY: the iterator only reads the container (its pointer is mutable in the
    // C signature only), which outlives the walk; JsonbIteratorNext frees each level's
    // state as it leaves it, and returns WJB_DONE at the end of the root.
    unsafe {
        let mut iterator = pg_sys::JsonbIteratorInit(std::ptr::from_ref(container).cast_mut());
        let mut value = pg_sys::JsonbValue::default();
        loop {
            let token = pg_sys::JsonbIteratorNext(&mut iterator, &mut value, skip_nested);
            if token == WJB_DONE {
                break;
            }
            each(token, &value);
        }
    }
}

/// A C string PostgreSQL allocated in the call's memory, as text.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string that lives for `'a`.
unsafe fn call_text<'a>(text: *const std::ffi::c_char) -> &'a str {
    if text.is_null() {
        return "";
    }
    // SAFETY: the caller's promise. The database encoding is UTF8 (see `split`),
    // so PostgreSQL's text of a jsonb value is valid UTF-8.
    unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap_or("(not UTF-8)")
}

/// A string PostgreSQL printed into a buffer of its own, copied into one of its
/// exact size: jsonb's printer starts every buffer at 1 KB, which a device of a
/// hundred bytes, kept for the whole call, would otherwise cost per event.
///
/// # Safety
/// `printed` is a NUL-terminated string palloc'd in the current memory context,
/// the call's, and nothing else points to it.
unsafe fn kept_text<'a>(printed: *mut std::ffi::c_char) -> &'a str {
    // SAFETY: the caller's promise; the copy is palloc'd in the same context, which
    // lives for 'a, and the buffer is freed once copied.
    unsafe {
        let copy = pg_sys::pstrdup(printed);
        pg_sys::pfree(printed.cast());
        call_text(copy)
    }
}

/// A numeric (a valid one: PostgreSQL parsed it) printed by numeric_out into a new
/// NUL-terminated string in the current memory context.
fn numeric_text(numeric: NonNull<pg_sys::NumericData>) -> *mut std::ffi::c_char {
    // SAFETY: numeric_out takes a numeric datum and returns a palloc'd C string,
    // never NULL.
    unsafe {
        pgrx::direct_function_call_as_datum(
            pg_sys::numeric_out,
            &[Some(pg_sys::Datum::from(numeric.as_ptr()))],
        )
        .map_or(std::ptr::null_mut(), |datum| datum.cast_mut_ptr())
    }
}

impl<'a> Json<'a> for BinaryJson<'a> {
    fn kind(self) -> JsonKind {
        match self {
            BinaryJson::Container(c) if c.header & OBJECT != 0 => JsonKind::Object,
            BinaryJson::Container(_) => JsonKind::Array,
            BinaryJson::String(_) => JsonKind::String,
            BinaryJson::Number(..) => JsonKind::Number,
            BinaryJson::Bool(_) => JsonKind::Boolean,
            BinaryJson::Null => JsonKind::Null,
        }
    }

    fn text(self) -> &'a str {
        let mut value = self.to_value();
        // SAFETY: JsonbToCString prints a container into a new string in the
        // current memory context, the call's (this runs outside SPI), which lives
        // for 'a; a scalar is first made a one-value document there.
        unsafe {
            let container = match self {
                BinaryJson::Container(container) => std::ptr::from_ref(container).cast_mut(),
                _ => &mut (*pg_sys::JsonbValueToJsonb(&mut value)).root,
            };
            kept_text(pg_sys::JsonbToCString(std::ptr::null_mut(), container, 64))
        }
    }

    fn string(self) -> Result<Cow<'a, str>, String> {
        match self {
            BinaryJson::String(bytes) => std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|e| e.to_string()),
            _ => Err("not a string".into()),
        }
    }

    fn number(self) -> &'a str {
        match self {
            // SAFETY: the string numeric_out printed into the call's memory, which
            // lives for 'a.
            BinaryJson::Number(numeric, _) => unsafe { call_text(numeric_text(numeric)) },
            _ => "",
        }
    }

    fn boolean(self) -> bool {
        matches!(self, BinaryJson::Bool(true))
    }

    fn members(self) -> Result<Vec<(Cow<'a, str>, Self)>, String> {
        let BinaryJson::Container(container) = self else {
            return Err("not an object".into());
        };
        let mut members = Vec::with_capacity((container.header & COUNT) as usize);
        let mut key: Result<Cow<'a, str>, String> = Err("a value before its key".into());
        let mut failed = None;
        walk(container, true, |token, value| {
            // SAFETY: values of this container, which lives for 'a.
            let value = unsafe { BinaryJson::from_value(value) };
            match token {
                WJB_KEY => key = value.string(),
                WJB_VALUE => match &key {
                    Ok(name) => members.push((name.clone(), value)),
                    Err(e) => failed = Some(e.clone()),
                },
                _ => {}
            }
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(members),
        }
    }
}

/// The events of a call's argument (`root`, the top container of its jsonb): the
/// object itself, or the elements of the array. The size limits are checked
/// first, as the contract's `split_payload` checks them on JSON text: the compact
/// length (`compact_len`) and then the number of events.
pub fn split(root: &pg_sys::JsonbContainer) -> Result<Vec<BinaryJson<'_>>, PayloadError> {
    let compact = compact_len(root);
    if compact > MAX_PAYLOAD_BYTES {
        return Err(PayloadError::TooLarge(compact));
    }
    let mut values = Vec::new();
    walk(root, true, |token, value| {
        if token == WJB_ELEM {
            // SAFETY: elements of the root, which lives as long as the argument.
            values.push(unsafe { BinaryJson::from_value(value) });
        }
    });
    if root.header & SCALAR != 0 {
        let kind = values.first().map_or(JsonKind::Null, |v| v.kind());
        return Err(PayloadError::NotObjectOrArray(kind));
    }
    if root.header & OBJECT != 0 {
        return Ok(vec![BinaryJson::Container(root)]);
    }
    if values.len() > MAX_EVENTS {
        return Err(PayloadError::TooManyEvents(values.len()));
    }
    Ok(values)
}

/// The length in bytes of the document's compact JSON text, without printing it:
/// what `user_metrics_contract::compact_len` gives for the text jsonb_out prints
/// (the same escapes in strings, numbers as numeric_out prints them), counted
/// token by token over the whole tree.
pub fn compact_len(root: &pg_sys::JsonbContainer) -> usize {
    let scalar_root = root.header & SCALAR != 0;
    let mut len = 0usize;
    walk(root, false, |token, value| {
        // SAFETY: values of the document, which lives as long as the argument.
        let json = unsafe { BinaryJson::from_value(value) };
        len += match token {
            // The pseudo-array around a scalar document prints no brackets.
            WJB_BEGIN_ARRAY | WJB_END_ARRAY if scalar_root => 0,
            // An opening bracket and a comma between elements; and, for an
            // object, a colon in each member.
            WJB_BEGIN_ARRAY => {
                // SAFETY: the token says the array member of the union is set.
                let n = usize::try_from(unsafe { value.val.array.nElems }).unwrap_or(0);
                1 + n.saturating_sub(1)
            }
            WJB_BEGIN_OBJECT => {
                // SAFETY: the token says the object member of the union is set.
                let n = usize::try_from(unsafe { value.val.object.nPairs }).unwrap_or(0);
                1 + n.saturating_sub(1) + n
            }
            WJB_END_ARRAY | WJB_END_OBJECT => 1,
            WJB_KEY | WJB_VALUE | WJB_ELEM => scalar_len(json),
            _ => 0,
        };
    });
    len
}

/// The length of a scalar's JSON text, as jsonb_out prints it.
fn scalar_len(value: BinaryJson<'_>) -> usize {
    match value {
        BinaryJson::String(bytes) => {
            2 + bytes
                .iter()
                .map(|&b| match b {
                    b'"' | b'\\' | 0x08 | 0x0c | b'\n' | b'\r' | b'\t' => 2,
                    0..=0x1f => 6,
                    _ => 1,
                })
                .sum::<usize>()
        }
        BinaryJson::Number(numeric, _) => {
            let printed = numeric_text(numeric);
            if printed.is_null() {
                return 0;
            }
            // SAFETY: a string numeric_out printed, freed once measured.
            unsafe {
                let len = CStr::from_ptr(printed).to_bytes().len();
                pg_sys::pfree(printed.cast());
                len
            }
        }
        BinaryJson::Bool(true) | BinaryJson::Null => 4,
        BinaryJson::Bool(false) => 5,
        BinaryJson::Container(_) => 0,
    }
}
