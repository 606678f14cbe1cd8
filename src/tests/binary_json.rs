//! ingest_metrics reads its argument as binary jsonb (`ingest::binary_json`); the
//! contract is written against JSON text. Both readings must agree exactly: the
//! same events, the same rejections with the same messages, the same quoted
//! payloads, and the same compact length for the size limit, for any document.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::Value;
    use std::ffi::{CStr, CString};
    use user_metrics_contract::generate::{any_json, long_email_event, mutated_event, valid_event};
    use user_metrics_contract::{compact_len, event_id_hint, parse_event, split_payload, Json};

    use crate::ingest::binary_json;

    /// `text` parsed by PostgreSQL, as the top container of its jsonb (palloc'd in
    /// the test's memory context, which outlives the comparison).
    fn parsed(text: &str) -> &'static pg_sys::JsonbContainer {
        let text = CString::new(text).unwrap();
        // SAFETY: jsonb_in takes a NUL-terminated string and returns a jsonb datum
        // palloc'd in the current memory context, which lives for the whole test.
        unsafe {
            let datum = pgrx::direct_function_call_as_datum(
                pg_sys::jsonb_in,
                &[Some(pg_sys::Datum::from(text.as_ptr()))],
            )
            .unwrap();
            &(*datum.cast_mut_ptr::<pg_sys::Jsonb>()).root
        }
    }

    /// PostgreSQL's text of the same document, as ingest_metrics read it before.
    fn printed(root: &pg_sys::JsonbContainer) -> String {
        // SAFETY: JsonbToCString prints a valid container into a new string.
        unsafe {
            let text = pg_sys::JsonbToCString(
                std::ptr::null_mut(),
                std::ptr::from_ref(root).cast_mut(),
                64,
            );
            CStr::from_ptr(text).to_str().unwrap().to_string()
        }
    }

    fn both_readings_agree(document: &str) {
        let root = parsed(document);
        let text = printed(root);
        assert_eq!(binary_json::compact_len(root), compact_len(&text), "{text}");
        let binary = binary_json::split(root);
        let textual = split_payload(&text);
        match (binary, textual) {
            (Ok(binary), Ok(textual)) => {
                assert_eq!(binary.len(), textual.len(), "{text}");
                for (b, t) in binary.iter().zip(&textual) {
                    assert_eq!(b.text(), t.text(), "{text}");
                    assert_eq!(parse_event(*b), parse_event(*t), "{text}");
                    assert_eq!(event_id_hint(*b), event_id_hint(*t), "{text}");
                }
            }
            (binary, textual) => assert_eq!(binary.err(), textual.err(), "{text}"),
        }
    }

    #[pg_test]
    fn the_binary_and_the_text_readings_agree_on_chosen_documents() {
        for document in [
            "[]",
            "{}",
            "[{}]",
            "1",
            "\"x\"",
            "null",
            "true",
            "[1, \"a\", null, [2], {\"b\": {}}]",
            r#"{"event_id": "e\"q\\b\u0001\t\n\u001f\u007f é 😀", "user": {"email": "Ana@X.com"},
                "session": {"id": "s", "started_at": "2026-11-23T09:00:00Z",
                            "device": {"os": "a\u0002b", "x": [1.50, false]}},
                "metrics": {"talked_time": 5.50}}"#,
            r#"[{"metrics": {"talked_time": 1e400}}, {"metrics": {"talked_time": -0}},
                {"metrics": {"talked_time": 0.30000000000000004, "voice_sentiment": -1.0000}},
                {"recorded_at": 1795424400.5}, {"recorded_at": 1e30}, {"event_id": 12}]"#,
            r#"[{"user": {"email": "a@b", "name": ""}, "user": 3}, {"a": {"b": {"c": [[[]]]}}}]"#,
        ] {
            both_readings_agree(document);
        }
    }

    #[pg_test]
    fn the_binary_and_the_text_readings_agree_on_any_batch() {
        let batch = prop::collection::vec(
            prop_oneof![
                4 => valid_event(),
                2 => long_email_event(),
                3 => mutated_event(),
                2 => any_json(),
            ],
            0..8,
        );
        let mut runner = TestRunner::new(Config {
            cases: 400,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&batch, |events| {
                // jsonb cannot hold U+0000.
                let document = Value::Array(events).to_string();
                if !document.contains("\\u0000") {
                    both_readings_agree(&document);
                }
                Ok(())
            })
            .unwrap();
    }
}
