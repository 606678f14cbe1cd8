//! Every error a function of the extension can raise, each with its SQLSTATE.
//!
//! Problems with one event inside a batch are not errors: they are quarantined
//! (see `ingest`). These are the failures of a whole call.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::spi::SpiError;
use user_metrics_contract::{PayloadError, RejectCode, Rejection};

use crate::guards::DropTarget;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} must not be NULL")]
    NullArgument(&'static str),

    #[error("on_error must be 'quarantine' or 'raise', got '{0}'")]
    UnknownMode(String),

    #[error(transparent)]
    Payload(#[from] PayloadError),

    #[error("max_rows must not be negative, got {0}")]
    NegativeLimit(i32),

    #[error("{0}")]
    InvalidArgument(String),

    /// With `on_error => 'raise'`: the first invalid event ends the call. The
    /// message names the field and the code only: it goes to the server log too,
    /// and the rejection's own message may quote the value (an e-mail, a name). That
    /// message is the DETAIL, which the client gets and the log does not.
    #[error("invalid event at index {index}: {}", field_and_code(rejection))]
    InvalidEvent { index: usize, rejection: Rejection },

    #[error("user_metrics needs a UTF8 database; this one's encoding cannot hold the JSON text")]
    NotUtf8,

    /// A function that writes, called on a hot standby.
    #[error("cannot execute user_metrics.{0}() during recovery")]
    InRecovery(&'static str),

    /// A function that writes, called in a read-only transaction.
    #[error("cannot execute user_metrics.{0}() in a read-only transaction")]
    ReadOnlyTransaction(&'static str),

    /// A statement that would drop tables of the extension while they hold rows.
    #[error("{}", drop_refusal(target))]
    DropWithData {
        target: DropTarget,
        holding: Vec<String>,
    },

    /// DROP EXTENSION user_metrics while Citus distributes these tables.
    #[error("cannot drop extension user_metrics while its tables are distributed with Citus")]
    DropDistributed(Vec<String>),

    #[error("user_metrics.{0}() can only be called as an event trigger")]
    NotAnEventTrigger(&'static str),

    /// A `tz` that is not a name of the tz database.
    #[error("time zone \"{0}\" is not a name of the tz database")]
    UnknownTimeZone(String),

    /// A date whose day has no instant in PostgreSQL's range of timestamps.
    #[error("{0}")]
    DateOutOfRange(String),

    /// forget_user of an address whose user key another address holds.
    #[error("cannot forget this address: its user key belongs to another address")]
    KeyHeldByAnother,

    #[error("internal error in SPI: {0}")]
    Spi(#[from] SpiError),

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn sqlstate(&self) -> PgSqlErrorCode {
        use PgSqlErrorCode::*;
        match self {
            Error::NullArgument(_) => ERRCODE_NULL_VALUE_NOT_ALLOWED,
            Error::Payload(error) if error.is_limit() => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            Error::UnknownMode(_)
            | Error::Payload(_)
            | Error::InvalidEvent { .. }
            | Error::NegativeLimit(_)
            | Error::InvalidArgument(_)
            | Error::UnknownTimeZone(_) => ERRCODE_INVALID_PARAMETER_VALUE,
            Error::DateOutOfRange(_) => ERRCODE_DATETIME_FIELD_OVERFLOW,
            Error::NotUtf8 => ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
            Error::InRecovery(_) | Error::ReadOnlyTransaction(_) => {
                ERRCODE_READ_ONLY_SQL_TRANSACTION
            }
            Error::DropWithData { .. } | Error::KeyHeldByAnother => {
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE
            }
            Error::DropDistributed(_) => ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
            Error::NotAnEventTrigger(_) => ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
            Error::Spi(_) | Error::Internal(_) => ERRCODE_INTERNAL_ERROR,
        }
    }

    /// What the server log shows instead of the DETAIL, where the DETAIL may quote
    /// a value of the payload.
    fn detail_log(&self) -> Option<&'static str> {
        match self {
            Error::InvalidEvent { .. } => {
                Some("The reason, which may quote the value, is in the DETAIL sent to the client.")
            }
            _ => None,
        }
    }
}

/// The message of a refused drop: what would have been dropped.
fn drop_refusal(target: &DropTarget) -> String {
    match target {
        DropTarget::Extension => {
            "cannot drop extension user_metrics because its tables hold data".to_string()
        }
        DropTarget::Schema => {
            "cannot drop schema user_metrics because the tables of extension user_metrics hold data"
                .to_string()
        }
        DropTarget::OwnedBy(role) => format!(
            "cannot drop the objects owned by role \"{role}\" because the tables of extension user_metrics hold data"
        ),
        DropTarget::Tables(_) => {
            "cannot drop tables of extension user_metrics that hold data".to_string()
        }
    }
}

/// `session.id: session_user_conflict`. The path of an unknown field is the key as
/// sent, so only the code is given for it.
fn field_and_code(rejection: &Rejection) -> String {
    if rejection.path.is_empty() || rejection.code == RejectCode::UnknownField {
        rejection.code.to_string()
    } else {
        format!("{}: {}", rejection.path, rejection.code)
    }
}

impl From<Error> for ErrorReport {
    fn from(error: Error) -> ErrorReport {
        let report = ErrorReport::new(error.sqlstate(), error.to_string(), "user_metrics");
        match &error {
            Error::InvalidEvent { rejection, .. } => report.set_detail(rejection.message.clone()),
            Error::UnknownMode(_) => {
                report.set_hint("'quarantine' stores the valid events and keeps the others in user_metrics.rejected_events; 'raise' stores nothing if any event is invalid.")
            }
            Error::UnknownTimeZone(_) => report.set_hint(
                "Name a zone of the tz database, such as 'Europe/Berlin', 'America/Havana' or 'UTC' (SELECT name FROM pg_timezone_names lists them). Offsets such as '+03:00', POSIX rules such as 'UTC+3' and abbreviations such as 'CEST' are refused: PostgreSQL reads '+03:00' and 'UTC+3' as three hours west of UTC, and an abbreviation follows no change of the clocks.",
            ),
            Error::InRecovery(function) => report.set_hint(format!(
                "This server is a hot standby and only reads; call user_metrics.{function}() on the primary server."
            )),
            Error::ReadOnlyTransaction(function) => report.set_hint(format!(
                "Call user_metrics.{function}() in a read-write transaction (not after SET TRANSACTION READ ONLY, nor with default_transaction_read_only on)."
            )),
            Error::DropWithData { target, holding } => report
                .set_detail(format!(
                    "{} {} rows, which {} would delete.",
                    holding.join(", "),
                    if holding.len() == 1 { "holds" } else { "hold" },
                    target.statement()
                ))
                .set_hint(format!(
                    "Back them up first (pg_dump keeps them). To drop them all the same: SET user_metrics.allow_drop_with_data = on, then {}.",
                    match target {
                        DropTarget::Extension => "DROP EXTENSION user_metrics",
                        _ => "run the statement again",
                    }
                )),
            Error::DropDistributed(tables) => report
                .set_detail(format!(
                    "{} {} distributed: DROP EXTENSION would leave {}, and the shards on the workers, behind.",
                    tables.join(", "),
                    if tables.len() == 1 { "is" } else { "are" },
                    if tables.len() == 1 { "it" } else { "them" }
                ))
                .set_hint(format!(
                    "They hold the data: back it up first. Then drop them (SET user_metrics.allow_drop_with_data = on; DROP TABLE {}), which removes their shards from every node, and DROP EXTENSION user_metrics.",
                    tables.join(", ")
                )),
            _ => report,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Turns an `Err` into a PostgreSQL ERROR with the error's SQLSTATE. Used at the
/// SQL boundary (`api`), so the functions there return plain values.
pub trait OrRaise<T> {
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for Result<T> {
    fn or_raise(self) -> T {
        match self {
            Ok(value) => value,
            Err(error) => {
                // Raising an ERROR unwinds to the function's boundary and does not
                // return; there the server log's version of it is completed (elog).
                crate::elog::arm(error.detail_log());
                ErrorReport::from(error).report(PgLogLevel::ERROR);
                unreachable!("an ERROR report returned")
            }
        }
    }
}
