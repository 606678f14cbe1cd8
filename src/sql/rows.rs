//! Rows in and out of statements, each declared once as a Rust struct.
//!
//! - A result row (`result_row!`) is read from a statement's result by column
//!   name: the struct's field names are the names of the statement's columns, so
//!   a column renamed or missing in the SQL fails every call that reads it, with
//!   the column's name, instead of shifting the values of its neighbours. Each
//!   field is looked for first at its own position, where the statement puts it,
//!   so finding it costs one comparison of names.
//! - Parameter rows (`parameter_rows!`) are passed to a statement as one array
//!   per field, in field order: the statement takes them with
//!   `unnest($1::type[], ...) AS alias (field, ...)`, and a test
//!   (`tests::statements`) checks that every such alias list names the fields in
//!   that order.

use pgrx::datum::{Date, TimestampWithTimeZone};
use pgrx::memcxt::PgMemoryContexts;
use pgrx::prelude::*;
use pgrx::{AnyNumeric, FromDatum, IntoDatum, JsonB, PgTupleDesc};

use super::run::Args;
use crate::error::{Error, Result};

/// One row of a statement's result, as SPI returned it. A column is taken out of
/// the tuple only when it is read, and only that one.
pub struct StatementRow<'r> {
    columns: &'r PgTupleDesc<'r>,
    tuple: pg_sys::HeapTuple,
}

impl<'r> StatementRow<'r> {
    /// # Safety
    /// `tuple` is a row of the result that `columns` describes, alive while the
    /// row is read (the SPI connection that ran the statement is open).
    pub unsafe fn new(columns: &'r PgTupleDesc<'r>, tuple: pg_sys::HeapTuple) -> Self {
        StatementRow { columns, tuple }
    }

    /// The value of the column at `ordinal` (from 1), NULL as None. A value that
    /// lives in memory is copied out of the SPI connection's memory, so that it
    /// outlives it, as pgrx's own SPI rows do.
    pub fn get<T: FromDatum + IntoDatum>(&self, ordinal: usize) -> Result<Option<T>> {
        let attribute = ordinal
            .checked_sub(1)
            .and_then(|index| self.columns.get(index))
            .ok_or_else(|| Error::Internal(format!("no column {ordinal} in the result")))?;
        let number = i32::try_from(ordinal)
            .map_err(|_| Error::Internal(format!("no column {ordinal} in the result")))?;
        let mut is_null = false;
        // SAFETY: `number` is a column of `tuple`'s descriptor (checked above), and
        // the tuple is alive (`new`'s promise). The conversion checks that the
        // column's type is one that T reads, and copies a by-reference value into
        // the memory context outside the SPI connection.
        unsafe {
            let datum =
                pg_sys::SPI_getbinval(self.tuple, self.columns.as_ptr(), number, &mut is_null);
            let outer = PgMemoryContexts::CurrentMemoryContext
                .parent()
                .ok_or_else(|| Error::Internal("no memory context outside SPI".into()))?;
            T::try_from_datum_in_memory_context(outer, datum, is_null, attribute.atttypid)
                .map_err(|error| Error::Internal(format!("column {}: {error}", attribute.name())))
        }
    }

    /// The position (from 1) of the column `name`: `hint` if that column has the
    /// name, else wherever it is.
    fn ordinal_of(&self, name: &str, hint: usize) -> Result<usize> {
        let named = |index: usize| {
            self.columns
                .get(index)
                .is_some_and(|attribute| !attribute.attisdropped && attribute.name() == name)
        };
        if hint >= 1 && named(hint - 1) {
            return Ok(hint);
        }
        (0..self.columns.len())
            .find(|&index| named(index))
            .map(|index| index + 1)
            .ok_or_else(|| Error::Internal(format!("the statement returns no column {name}")))
    }
}

/// A row of a statement's result.
pub trait ResultRow: Sized {
    /// The statement's column names, in order.
    // Read by the tests that tie the SQL to these names.
    #[cfg_attr(not(any(test, feature = "pg_test")), allow(dead_code))]
    const COLUMNS: &'static [&'static str];
    /// The row as the tuple a `TableIterator` yields, in column order.
    type Tuple;
    fn read(row: StatementRow<'_>) -> Result<Self>;
    fn into_tuple(self) -> Self::Tuple;
}

/// Rows passed to a statement as one array argument per field.
pub trait ParameterRows: Sized {
    /// The names under which the statement unnests the arrays, in order.
    #[cfg_attr(not(any(test, feature = "pg_test")), allow(dead_code))]
    const COLUMNS: &'static [&'static str];
    fn into_args(rows: impl IntoIterator<Item = Self>) -> Args;
}

/// Reads the column `name` of a result row, looked for first at `hint` (its
/// position from 1; 0 for none): a value, or for an `Option` field, a value or
/// NULL.
pub trait Column: Sized {
    fn read(row: &StatementRow<'_>, name: &str, hint: usize) -> Result<Self>;
}

impl<T: FromDatum + IntoDatum> Column for Option<T> {
    fn read(row: &StatementRow<'_>, name: &str, hint: usize) -> Result<Self> {
        row.get::<T>(row.ordinal_of(name, hint)?)
    }
}

/// Columns that the statement guarantees are not NULL: a NULL is an internal error.
macro_rules! not_null_column {
    ($($type:ty),* $(,)?) => {
        $(
            impl Column for $type {
                fn read(row: &StatementRow<'_>, name: &str, hint: usize) -> Result<Self> {
                    row.get::<$type>(row.ordinal_of(name, hint)?)?.ok_or_else(|| {
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
pub fn column<T: Column>(row: &StatementRow<'_>, name: &str) -> Result<T> {
    T::read(row, name, 1)
}

/// The value of the column `name` of a result row, looked for first at `hint`
/// (from 1): what `result_row!` reads each field with.
pub fn column_at<T: Column>(row: &StatementRow<'_>, name: &str, hint: usize) -> Result<T> {
    T::read(row, name, hint)
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

            fn read(row: $crate::sql::StatementRow<'_>) -> $crate::error::Result<Self> {
                // Each field where the statement puts it: after the fields before it.
                let mut position = 0;
                Ok($name {
                    $($field: {
                        position += 1;
                        $crate::sql::column_at(&row, stringify!($field), position)?
                    }),*
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
