//! Rows in and out of statements, each declared once as a Rust struct.
//!
//! - A result row (`result_row!`) is read from a statement's result by column
//!   name: the struct's field names are the names of the statement's columns, so
//!   a column renamed or missing in the SQL fails every call that reads it, with
//!   the column's name, instead of shifting the values of its neighbours.
//! - Parameter rows (`parameter_rows!`) are passed to a statement as one array
//!   per field, in field order: the statement takes them with
//!   `unnest($1::type[], ...) AS alias (field, ...)`, and a test
//!   (`tests::statements`) checks that every such alias list names the fields in
//!   that order.

use pgrx::datum::{Date, TimestampWithTimeZone};
use pgrx::spi::SpiHeapTupleData;
use pgrx::{AnyNumeric, FromDatum, IntoDatum, JsonB};

use super::run::Args;
use crate::error::{Error, Result};

/// A row of a statement's result.
pub trait ResultRow: Sized {
    /// The statement's column names, in order.
    // Read by the tests that tie the SQL to these names.
    #[cfg_attr(not(any(test, feature = "pg_test")), allow(dead_code))]
    const COLUMNS: &'static [&'static str];
    /// The row as the tuple a `TableIterator` yields, in column order.
    type Tuple;
    fn read(row: SpiHeapTupleData<'_>) -> Result<Self>;
    fn into_tuple(self) -> Self::Tuple;
}

/// Rows passed to a statement as one array argument per field.
pub trait ParameterRows: Sized {
    /// The names under which the statement unnests the arrays, in order.
    #[cfg_attr(not(any(test, feature = "pg_test")), allow(dead_code))]
    const COLUMNS: &'static [&'static str];
    fn into_args(rows: impl IntoIterator<Item = Self>) -> Args;
}

/// Reads the column `name` of a result row: a value, or for an `Option` field,
/// a value or NULL.
pub trait Column: Sized {
    fn read(row: &SpiHeapTupleData<'_>, name: &str) -> Result<Self>;
}

impl<T: FromDatum + IntoDatum> Column for Option<T> {
    fn read(row: &SpiHeapTupleData<'_>, name: &str) -> Result<Self> {
        Ok(row.get_by_name::<T, _>(name)?)
    }
}

/// Columns that the statement guarantees are not NULL: a NULL is an internal error.
macro_rules! not_null_column {
    ($($type:ty),* $(,)?) => {
        $(
            impl Column for $type {
                fn read(row: &SpiHeapTupleData<'_>, name: &str) -> Result<Self> {
                    row.get_by_name::<$type, _>(name)?.ok_or_else(|| {
                        Error::Internal(format!("unexpected NULL in column {name}"))
                    })
                }
            }
        )*
    };
}

not_null_column!(
    bool,
    i32,
    i64,
    String,
    AnyNumeric,
    JsonB,
    Date,
    TimestampWithTimeZone
);

/// The value of the column `name` of a one-column (or any) result row.
pub fn column<T: Column>(row: &SpiHeapTupleData<'_>, name: &str) -> Result<T> {
    T::read(row, name)
}

/// Declares a struct whose fields are the columns of a statement's result, and
/// implements `ResultRow` for it.
macro_rules! result_row {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* $field:ident: $type:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: $type),*
        }

        impl $crate::sql::ResultRow for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            type Tuple = ($($type,)*);

            fn read(row: ::pgrx::spi::SpiHeapTupleData<'_>) -> $crate::error::Result<Self> {
                Ok($name {
                    $($field: $crate::sql::column(&row, stringify!($field))?),*
                })
            }

            fn into_tuple(self) -> Self::Tuple {
                ($(self.$field,)*)
            }
        }
    };
}

/// Declares a struct whose fields are the array arguments of a statement, one row
/// per element, and implements `ParameterRows` for it.
macro_rules! parameter_rows {
    (
        $(#[$meta:meta])*
        pub struct $name:ident $(<$life:lifetime>)? {
            $($(#[$field_meta:meta])* $field:ident: $type:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name $(<$life>)? {
            $($(#[$field_meta])* pub $field: $type),*
        }

        impl $(<$life>)? $crate::sql::ParameterRows for $name $(<$life>)? {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn into_args(rows: impl IntoIterator<Item = Self>) -> $crate::sql::Args {
                let rows = rows.into_iter();
                let capacity = rows.size_hint().0;
                $(let mut $field: Vec<$type> = Vec::with_capacity(capacity);)*
                for row in rows {
                    $($field.push(row.$field);)*
                }
                vec![$($field.into()),*]
            }
        }
    };
}

pub(crate) use {parameter_rows, result_row};
