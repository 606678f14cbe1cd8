//! Checks that refuse an operation before it does any work: a write where the
//! transaction cannot write.

use pgrx::prelude::*;

use crate::error::{Error, Result};

/// Refuses a call of the function `function` (which writes) on a hot standby
/// or in a read-only transaction, with SQLSTATE 25006 as any write gets there.
/// Without it the call would get as far as its first write and fail there with
/// an internal error, or succeed when the batch happens to need no write.
pub fn writable(function: &'static str) -> Result<()> {
    // SAFETY: reads of this backend's state, valid inside any transaction.
    if unsafe { pg_sys::RecoveryInProgress() } {
        return Err(Error::InRecovery(function));
    }
    // On a standby every transaction is read-only too; above, it gets the clearer message.
    if unsafe { pg_sys::XactReadOnly } {
        return Err(Error::ReadOnlyTransaction(function));
    }
    Ok(())
}
