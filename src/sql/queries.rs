//! Every SQL statement the extension runs: one file each under `sql/queries/`,
//! named here by a constant of the same name.

/// One SQL statement of the extension.
pub struct Statement {
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! statement {
    ($const_name:ident, $file:literal) => {
        pub const $const_name: Statement = Statement {
            name: $file,
            sql: include_str!(concat!("../../sql/queries/", $file, ".sql")),
        };
    };
}

// Ingestion: a call of one event, in one statement when it can be;
statement!(STORE_ONE, "store_one");
// on Citus, by statements that Citus routes to the user's shard;
statement!(ONE_USER_ERASED, "one_user_erased");
statement!(ONE_USER_FIND, "one_user_find");
statement!(ONE_USER_ADD_USER, "one_user_add_user");
statement!(ONE_USER_ADD_SESSION, "one_user_add_session");
statement!(ONE_USER_ADD_EVENT, "one_user_add_event");
statement!(ONE_USER_ADD_TOTALS, "one_user_add_totals");
// and any other call, in the order it runs them.
statement!(LOOKUP, "lookup");
statement!(LOOKUP_CITUS, "lookup_citus");
statement!(WRITE_USERS, "write_users");
statement!(STORE, "store");
statement!(QUARANTINE, "quarantine");
statement!(ADD_TO_COUNTERS, "add_to_counters");
// Only after a race with a concurrent call (see storage::store), and for purge.
statement!(SET_SESSION_TOTALS, "set_session_totals");
statement!(DELETE_SESSIONS, "delete_sessions");
statement!(DELETE_UNUSED_USERS, "delete_unused_users");

// Reports.
statement!(USER_TOTALS_ALL, "user_totals_all");
statement!(USER_TOTALS_ONE, "user_totals_one");
statement!(SESSION_DETAILS, "session_details");
statement!(SESSION_DETAILS_ALL_USERS, "session_details_all_users");
statement!(WEEK_BOUNDS, "week_bounds");
statement!(WEEKLY_REPORT, "weekly_report");
statement!(ACTIVITY_PERIODS, "activity_periods");
statement!(ACTIVITY_REPORT, "activity_report");
statement!(USER_SESSIONS, "user_sessions");
statement!(HEALTH, "health");
statement!(LIST_REJECTED_EVENTS, "list_rejected_events");

// The quarantine.
statement!(LOCK_REJECTED, "lock_rejected");
statement!(DELETE_REJECTED, "delete_rejected");
statement!(MARK_REPLAYED, "mark_replayed");

// Retention: purge, in the order it runs them (with DELETE_SESSIONS and
// DELETE_UNUSED_USERS).
statement!(PURGE_FIND_SESSIONS, "purge_find_sessions");
statement!(PURGE_EVENTS, "purge_events");
statement!(PURGE_QUARANTINE, "purge_quarantine");

// Erasure: forget_user, in the order it runs them.
statement!(FORGET_FIND_USER, "forget_find_user");
statement!(FORGET_EVENTS, "forget_events");
statement!(FORGET_SESSIONS, "forget_sessions");
statement!(FORGET_USER_ROW, "forget_user_row");
statement!(FORGET_FIND_MENTIONING_USERS, "forget_find_mentioning_users");
statement!(FORGET_SCAN_QUARANTINE, "forget_scan_quarantine");
statement!(FORGET_RECORD, "forget_record");

// Operations: the drop guard, and the cut-over after logical replication.
statement!(TABLES_HOLDING_ROWS, "tables_holding_rows");
statement!(EXTENSION_OWNER_ROLE, "extension_owner_role");
statement!(CITUS_INSTALLED, "citus_installed");
statement!(DISTRIBUTED_TABLES, "distributed_tables");
statement!(RESYNC_SEQUENCES, "resync_sequences");
