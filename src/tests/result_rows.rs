//! Result rows are read by column name, whatever the statement's order of its
//! columns, and a missing column is an error that names it.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::error::Error;
    use crate::sql::{read, result_row, ResultRow, Statement};

    result_row! {
        pub struct Pair {
            number: i64,
            text: Option<String>,
        }
    }

    fn read_pairs(statement: &Statement) -> crate::error::Result<Vec<Pair>> {
        read(statement, || Ok(vec![]), Pair::read)
    }

    /// Reading `statement`'s rows as pairs fails, with a message naming `column`.
    fn assert_fails_naming(statement: &Statement, column: &str) {
        match read_pairs(statement) {
            Err(Error::Internal(message)) => assert!(message.contains(column), "{message}"),
            Err(other) => panic!("another error: {other}"),
            Ok(_) => panic!("{}: its rows were read", statement.name),
        }
    }

    #[pg_test]
    fn fields_are_read_by_name_in_either_order() {
        let in_order = Statement {
            name: "test_rows_in_order",
            sql: "SELECT 7::bigint AS number, 'seven'::text AS text",
        };
        let swapped = Statement {
            name: "test_rows_swapped",
            sql: "SELECT NULL::text AS text, 'x'::text AS other, 8::bigint AS number",
        };
        let rows = read_pairs(&in_order).unwrap();
        assert_eq!(
            (rows[0].number, rows[0].text.as_deref()),
            (7, Some("seven"))
        );
        let rows = read_pairs(&swapped).unwrap();
        assert_eq!((rows[0].number, rows[0].text.as_deref()), (8, None));
    }

    #[pg_test]
    fn a_missing_column_is_an_error_that_names_it() {
        let missing = Statement {
            name: "test_rows_missing",
            sql: "SELECT 9::bigint AS number",
        };
        assert_fails_naming(&missing, "text");
    }

    #[pg_test]
    fn a_column_of_another_type_is_an_error_that_names_it() {
        let wrong_type = Statement {
            name: "test_rows_wrong_type",
            sql: "SELECT 'nine'::text AS number, NULL::text AS text",
        };
        assert_fails_naming(&wrong_type, "number");
    }
}
