//! The lists the code and the SQL both spell, tied: the columns of each typed row
//! with the statements and functions that use it, and the quarantine's error codes
//! with the contract's.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use user_metrics_contract::RejectCode;

    use crate::reports::{activity, rejected, session_details, user_totals, weekly};
    use crate::sql::*;
    use crate::storage::{events, quarantine, sessions, users};

    /// The names a statement gives the arrays of its `nth` unnest (from 0):
    /// `unnest($1::type[], ...) [WITH ORDINALITY] AS alias (name, ...)`, checked to
    /// be one per array (and the ordinality's, which is left out).
    fn unnested_columns(statement: &Statement, nth: usize) -> Vec<String> {
        let sql = statement
            .sql
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let (_, rest) = sql
            .match_indices("unnest(")
            .nth(nth)
            .map(|(start, _)| sql.split_at(start + "unnest(".len()))
            .unwrap_or_else(|| panic!("{}: no unnest number {nth}", statement.name));
        let (arrays, rest) = rest.split_once(')').unwrap();
        let rest = rest.trim_start();
        let (rest, ordinality) = match rest.strip_prefix("WITH ORDINALITY ") {
            Some(rest) => (rest, 1),
            None => (rest, 0),
        };
        let rest = rest.strip_prefix("AS ").unwrap();
        let (_alias, rest) = rest.split_once(" (").unwrap();
        let (names, _) = rest.split_once(')').unwrap();
        let mut names: Vec<String> = names.split(',').map(|n| n.trim().to_string()).collect();
        assert_eq!(
            arrays.split(',').count() + ordinality,
            names.len(),
            "{}: one name per array",
            statement.name
        );
        names.truncate(names.len() - ordinality);
        names
    }

    fn assert_unnests<R: ParameterRows>(statement: &Statement, nth: usize, key_columns: &[&str]) {
        let expected: Vec<&str> = key_columns.iter().chain(R::COLUMNS).copied().collect();
        assert_eq!(
            unnested_columns(statement, nth),
            expected,
            "{} takes its arrays in another order than the row type",
            statement.name
        );
    }

    #[pg_test]
    fn each_statement_unnests_its_row_type_in_field_order() {
        assert_unnests::<users::NewUser>(&WRITE_USERS, 0, &[]);
        assert_unnests::<users::NewName>(&WRITE_USERS, 1, &[]);
        assert_unnests::<quarantine::QuarantineRow>(&QUARANTINE, 0, &[]);
        assert_unnests::<quarantine::RefusedAgain>(&MARK_REPLAYED, 0, &[]);
        // The nine columns of a session's totals, after the keys that name it.
        assert_unnests::<sessions::TotalsRow>(&STORE, 0, &["user_key", "client_session_id"]);
        assert_unnests::<events::EventRow>(&STORE, 1, &[]);
        assert_unnests::<sessions::TotalsRow>(&STORE, 2, &["user_key", "id"]);
        assert_unnests::<sessions::TotalsRow>(&SET_SESSION_TOTALS, 0, &["user_key", "id"]);
    }

    #[pg_test]
    fn the_check_fails_on_a_statement_that_swaps_two_columns() {
        let swapped = Statement {
            name: "swapped",
            sql: "SELECT FROM unnest($1::bigint[], $2::text[], $3::text[]) AS input (email, user_key, name)",
        };
        let outcome = std::panic::catch_unwind(|| {
            assert_unnests::<users::NewUser>(&swapped, 0, &[]);
        });
        assert!(outcome.is_err());
    }

    /// The names of the columns the function returns, in order.
    fn output_columns(signature: &str) -> Vec<String> {
        Spi::get_one_with_args::<Vec<String>>(
            "SELECT array_agg(a.name ORDER BY a.n)
             FROM unnest((SELECT proargnames FROM pg_proc WHERE oid = $1::regprocedure),
                         (SELECT proargmodes FROM pg_proc WHERE oid = $1::regprocedure))
                  WITH ORDINALITY AS a (name, mode, n)
             WHERE a.mode = 't'",
            &[signature.into()],
        )
        .unwrap()
        .unwrap()
    }

    #[pg_test]
    fn each_report_returns_the_columns_of_its_row_type() {
        let reports: [(&str, &[&str]); 8] = [
            (
                "user_metrics.aggregate_user_metrics(text, timestamptz, timestamptz)",
                user_totals::UserTotals::COLUMNS,
            ),
            (
                "user_metrics.get_session_details(text, text)",
                session_details::SessionDetails::COLUMNS,
            ),
            (
                "user_metrics.generate_weekly_report(timestamptz)",
                weekly::WeeklyRow::COLUMNS,
            ),
            (
                "user_metrics.generate_weekly_report(date, text)",
                weekly::WeeklyRow::COLUMNS,
            ),
            (
                "user_metrics.get_user_sessions(text, timestamptz, timestamptz)",
                session_details::SessionDetails::COLUMNS,
            ),
            (
                "user_metrics.generate_activity_report(date, date, text, text)",
                activity::ActivityRow::COLUMNS,
            ),
            (
                "user_metrics.list_rejected_events(timestamptz, integer)",
                rejected::RejectedEvent::COLUMNS,
            ),
            (
                "user_metrics.resync_sequences()",
                crate::storage::sequences::SequenceMove::COLUMNS,
            ),
        ];
        for (function, columns) in reports {
            assert_eq!(output_columns(function), columns, "{function}");
        }
    }

    #[pg_test]
    fn the_quarantine_accepts_exactly_the_codes_it_can_be_given() {
        let definition = Spi::get_one::<String>(
            "SELECT pg_get_constraintdef(c.oid)
             FROM pg_constraint AS c
             WHERE c.conrelid = 'user_metrics.rejected_events'::regclass
               AND c.contype = 'c'
               AND pg_get_constraintdef(c.oid) LIKE '%error_code%'",
        )
        .unwrap()
        .unwrap();
        let mut allowed: Vec<&str> = definition.split('\'').skip(1).step_by(2).collect();
        allowed.sort_unstable();
        let mut expected: Vec<&str> = RejectCode::ALL
            .iter()
            .map(|code| code.as_str())
            // Given before 0.3.0; still in the quarantines of upgraded databases.
            .chain(["session_user_conflict"])
            .collect();
        expected.sort_unstable();
        assert_eq!(allowed, expected);
    }
}
