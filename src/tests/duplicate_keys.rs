//! The HINT of a duplicate key raised inside a call: resync_sequences() for an
//! identity key, call again for a key that a concurrent REINDEX copied.

#[pgrx::pg_schema]
mod tests {
    use crate::elog::duplicate_key::{hint, RESYNC, RETRY_AFTER_REINDEX};
    use pgrx::prelude::*;

    const UNIQUE: i32 = PgSqlErrorCode::ERRCODE_UNIQUE_VIOLATION as i32;

    #[pg_test]
    fn an_identity_key_names_resync_sequences() {
        let hint = hint(UNIQUE, Some(c"user_metrics"), Some(c"sessions_pkey"));
        assert_eq!(hint, Some(RESYNC));
    }

    #[pg_test]
    fn a_key_of_a_concurrent_reindex_says_call_again() {
        for name in [
            c"users_pkey",
            c"users_pkey_ccnew",
            c"sessions_client_session_id_key_ccold",
            c"events_event_id_key_ccnew1",
            c"rejected_events_payload_key_ccold12",
        ] {
            let hint = hint(UNIQUE, Some(c"user_metrics"), Some(name));
            assert_eq!(hint, Some(RETRY_AFTER_REINDEX), "{name:?}");
        }
    }

    #[pg_test]
    fn other_keys_schemas_and_errors_get_no_hint() {
        for (code, schema, name) in [
            (UNIQUE, c"user_metrics", c"counters_pkey"),
            (UNIQUE, c"user_metrics", c"users_pkey_ccnewer"),
            (UNIQUE, c"user_metrics", c"sessions_pkey_ccnew"),
            (UNIQUE, c"public", c"users_pkey"),
            (
                PgSqlErrorCode::ERRCODE_FOREIGN_KEY_VIOLATION as i32,
                c"user_metrics",
                c"users_pkey",
            ),
        ] {
            assert_eq!(hint(code, Some(schema), Some(name)), None, "{name:?}");
        }
        assert_eq!(hint(UNIQUE, Some(c"user_metrics"), None), None);
    }
}
