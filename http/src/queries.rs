//! Every statement the server sends, in one place.
//!
//! Each name is schema-qualified: the extension's functions with `user_metrics.`,
//! PostgreSQL's own with `pg_catalog.`, operators as `OPERATOR(pg_catalog.-)`.
//! Every connection also pins `search_path` to `pg_catalog, pg_temp` when it
//! opens (db.rs), so that a role able to create schemas cannot put a function of
//! a closer-matching argument type in the way (a schema named like a pool role
//! comes first in the default `"$user", public`) and have it run as that role.
//! Casts (`::text`) are looked up in `pg_cast`, which only a type's owner can
//! change, not along the `search_path`.

/// The rows of a set-returning function call as one JSON array of objects, in the
/// order the function returned them (`[]` for none).
macro_rules! rows_as_json_array {
    ($call:literal) => {
        concat!(
            "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.-) 'ordinality' \
             ORDER BY r.ordinality), '[]')::text FROM ",
            $call,
            " WITH ORDINALITY AS r"
        )
    };
}

/// POST /ingest: `$1` the body as sent, `$2` on_error.
pub const INGEST: &str = "SELECT user_metrics.ingest_metrics($1, $2)::text";

/// GET /health (the server keeps only `status` and `version` for callers without
/// a token).
pub const HEALTH: &str = "SELECT user_metrics.health()::text";

/// GET /users/{email}/metrics: one row, or none.
pub const USER_TOTALS: &str = "SELECT pg_catalog.to_jsonb(r)::text \
     FROM user_metrics.aggregate_user_metrics($1, $2::text::timestamptz, $3::text::timestamptz) AS r";

/// GET /sessions/{id}.
pub const SESSION_DETAILS: &str = rows_as_json_array!("user_metrics.get_session_details($1, $2)");

/// GET /reports/weekly.
pub const WEEKLY_REPORT: &str =
    rows_as_json_array!("user_metrics.generate_weekly_report($1::text::date, $2)");

/// GET /reports/activity: `$1`, `$2` the first and last day, `$3` the time
/// zone, `$4` day or week.
pub const ACTIVITY_REPORT: &str = rows_as_json_array!(
    "user_metrics.generate_activity_report($1::text::date, $2::text::date, $3, $4)"
);

/// GET /users/{email}/sessions.
pub const USER_SESSIONS: &str = rows_as_json_array!(
    "user_metrics.get_user_sessions($1, $2::text::timestamptz, $3::text::timestamptz)"
);

/// GET /reports/ingestion: ingest_stats from the UTC day `$1` to `$2` (NULL:
/// unbounded), by day, with the time spent in seconds.
pub const INGESTION: &str = "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(\
       'day', s.day, 'calls', s.calls, 'accepted', s.accepted, 'duplicates', s.duplicates, \
       'rejected', s.rejected, 'rejected_by_code', s.rejected_by_code, \
       'seconds', pg_catalog.date_part('epoch', s.time_total)) ORDER BY s.day), '[]')::text \
     FROM user_metrics.ingest_stats AS s \
     WHERE s.day OPERATOR(pg_catalog.>=) coalesce($1::text::date, '-infinity') \
       AND s.day OPERATOR(pg_catalog.<=) coalesce($2::text::date, 'infinity')";

/// GET /metrics: health(), and ingest_stats summed over every day (its
/// figures only grow: nothing deletes the counters it sums).
pub const METRICS: &str = "SELECT pg_catalog.jsonb_build_object(\
       'health', h.health, \
       'last_received_seconds', pg_catalog.date_part('epoch', \
           pg_catalog.jsonb_extract_path_text(h.health, 'last_received_at')::timestamptz), \
       'ingest', (SELECT pg_catalog.jsonb_build_object(\
                      'calls', coalesce(pg_catalog.sum(s.calls), 0), \
                      'accepted', coalesce(pg_catalog.sum(s.accepted), 0), \
                      'duplicates', coalesce(pg_catalog.sum(s.duplicates), 0), \
                      'rejected', coalesce(pg_catalog.sum(s.rejected), 0), \
                      'seconds', coalesce(pg_catalog.date_part('epoch', pg_catalog.sum(s.time_total)), 0)) \
                  FROM user_metrics.ingest_stats AS s), \
       'rejected_by_code', (SELECT coalesce(pg_catalog.jsonb_object_agg(c.code, c.n), '{}') \
                            FROM (SELECT r.key AS code, pg_catalog.sum(r.value::bigint) AS n \
                                  FROM user_metrics.ingest_stats AS s \
                                  CROSS JOIN LATERAL pg_catalog.jsonb_each_text(s.rejected_by_code) AS r \
                                  GROUP BY r.key) AS c))::text \
     FROM user_metrics.health() AS h (health)";

/// Every statement above, for the test that they name nothing unqualified.
#[cfg(test)]
pub const ALL: &[&str] = &[
    INGEST,
    HEALTH,
    USER_TOTALS,
    SESSION_DETAILS,
    WEEKLY_REPORT,
    METRICS,
];

#[cfg(test)]
mod tests {
    use super::ALL;

    /// SQL words that look like calls but are syntax, not names looked up.
    const SYNTAX: &[&str] = &["coalesce", "operator"];

    /// Every identifier followed by `(` is qualified (`schema.name(`) or syntax,
    /// and every operator is written `OPERATOR(pg_catalog.x)`; `::` casts aside.
    #[test]
    fn every_function_and_operator_is_schema_qualified() {
        for sql in ALL {
            let text = sql.replace("::", "  ");
            let bytes = text.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                let c = bytes[i] as char;
                if c == '\'' {
                    // Skip a string literal.
                    i += 1 + text[i + 1..].find('\'').expect("closed literal");
                } else if c.is_ascii_alphabetic() || c == '_' {
                    let start = i;
                    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_')
                    {
                        i += 1;
                    }
                    let word = &text[start..i];
                    let qualified = start > 0 && bytes[start - 1] == b'.';
                    if text[i..].starts_with('(') && !qualified {
                        assert!(
                            SYNTAX.contains(&word.to_ascii_lowercase().as_str()),
                            "{word}( is not schema-qualified in: {sql}"
                        );
                    }
                    if word.eq_ignore_ascii_case("operator") {
                        assert!(
                            text[i..].starts_with("(pg_catalog."),
                            "an operator outside pg_catalog in: {sql}"
                        );
                        i += text[i..].find(')').expect("closed OPERATOR(");
                    }
                    continue;
                } else {
                    assert!(
                        !"+-*/<>=~!@#%^&|`?".contains(c),
                        "the bare operator {c} in: {sql}"
                    );
                }
                i += 1;
            }
        }
    }
}
