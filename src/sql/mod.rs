//! Running the SQL of `sql/queries/` through SPI, for `storage` (the writes),
//! `reports` (the reads) and `guards`. Nothing here knows what an event or a
//! report is:
//! - `queries`: one constant per SQL file;
//! - `run`: prepared once per backend, run in an SPI connection of its own;
//! - `rows`: typed rows in and out of the statements;
//! - `convert`: contract values as PostgreSQL values;
//! - `row_update`: one row changed in place, without a statement;
//! - `direct_write`: rows found, inserted and changed without a statement;
//! - `prepared_expressions`: their tables' CHECKs and defaults, prepared once.

mod convert;
mod direct_write;
mod plan;
mod prepared_expressions;
mod queries;
mod row_update;
mod rows;
mod run;

pub use convert::{count, optional_timestamptz, timestamptz};
pub use direct_write::{with_writes, Tuple, Writes};
pub use queries::*;
pub use row_update::{update_row, Row};
pub(crate) use rows::{
    column, column_at, parameter_rows, result_row, ParameterRows, ResultRow, StatementRow,
};
pub use run::{citus_loaded, ignore, read, write, write_count, write_planned_once, Args};
