//! forget_user reaches every copy of the address the extension keeps: generated
//! payloads hold it in any case and normal form, padded, inside longer strings,
//! as object keys, at any depth; payloads that only hold longer addresses
//! containing it stay.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{json, Value};
    use unicode_normalization::UnicodeNormalization;
    use user_metrics_contract::generate::address;
    use user_metrics_contract::{check_address, normalize_email};

    use crate::tests::{count, ingest};

    /// What a person would still recognise as the address around it.
    const BEFORE: &[&str] = &[
        "",
        " ",
        "   ",
        "\t",
        "\n",
        "\u{a0}",
        "mailto:",
        "<",
        "Ana Lima <",
        "email=",
        "(",
        "'",
        "\"",
        "note: ",
        "→",
        "bob@example.org, ",
    ];
    const AFTER: &[&str] = &[
        "",
        " ",
        "\n",
        ">",
        ")",
        ".",
        ",",
        ";",
        "'",
        "?subject=hi",
        " and more",
        "\u{3000}",
    ];
    /// What makes a longer address of it: another person's.
    const GLUED_BEFORE: &[&str] = &["h", "x.", "x_", "x-", "x+", "7"];
    const GLUED_AFTER: &[&str] = &["x", ".br", "-x", "7", ".x"];

    /// The address written another way: each character upper- or lower-cased,
    /// composed or decomposed.
    fn written(address: &str, cases: &[bool], decomposed: bool) -> String {
        let cased: String = address
            .chars()
            .zip(cases.iter().cycle())
            .map(|(c, &upper)| {
                if upper {
                    c.to_uppercase().collect::<String>()
                } else {
                    c.to_lowercase().collect::<String>()
                }
            })
            .collect();
        if decomposed {
            cased.nfd().collect()
        } else {
            cased.nfc().collect()
        }
    }

    /// Where a string goes in a payload.
    #[derive(Debug, Clone, Copy)]
    enum Place {
        /// As user.email of an event that is otherwise valid: stored when the
        /// string is an address, quarantined (its message quoting it) when not.
        Email,
        /// As the value of a key at some depth of objects and arrays.
        Nested(usize),
        /// As a key.
        Key,
        /// As the whole payload.
        Bare,
    }

    fn place() -> impl Strategy<Value = Place> {
        prop_oneof![
            Just(Place::Email),
            (0usize..200).prop_map(Place::Nested),
            Just(Place::Key),
            Just(Place::Bare),
        ]
    }

    fn payload(text: &str, place: Place, marker: &str) -> Value {
        match place {
            Place::Email => json!({
                "event_id": marker,
                "user": {"email": text},
                "session": {"id": marker, "started_at": "2026-11-16T09:00:00Z"},
                "metrics": {"talked_time": 1}
            }),
            Place::Nested(depth) => {
                let mut value = json!({"note": text});
                for level in 0..depth {
                    value = if level % 2 == 0 {
                        json!([1, value])
                    } else {
                        json!({"k": value})
                    };
                }
                json!({"marker": marker, "user": {"email": "other@example.net"}, "extra": value})
            }
            Place::Key => json!({"marker": marker, "session": {"device": {text: true}}}),
            Place::Bare => json!(format!("{marker} {text}")),
        }
    }

    /// A payload of each kind that holds the address, and decoys that do not.
    #[derive(Debug, Clone)]
    struct Case {
        address: String,
        held: Vec<(usize, usize, Vec<bool>, bool, Place)>,
        decoys: Vec<(bool, usize, Vec<bool>, Place)>,
        erase_as: (Vec<bool>, bool),
    }

    fn case() -> impl Strategy<Value = Case> {
        let cases = || prop::collection::vec(any::<bool>(), 1..8);
        (
            address(),
            prop::collection::vec(
                (
                    0..BEFORE.len(),
                    0..AFTER.len(),
                    cases(),
                    any::<bool>(),
                    place(),
                ),
                1..6,
            ),
            prop::collection::vec((any::<bool>(), 0..6usize, cases(), place()), 0..4),
            (cases(), any::<bool>()),
        )
            .prop_map(|(address, held, decoys, erase_as)| Case {
                address,
                held,
                decoys,
                erase_as,
            })
    }

    fn quarantined(payloads: &[Value]) -> i64 {
        let texts: Vec<String> = payloads.iter().map(Value::to_string).collect();
        Spi::get_one_with_args::<i64>(
            "SELECT count(*) FROM user_metrics.rejected_events WHERE payload = ANY ($1::text[]::jsonb[])",
            &[texts.into()],
        )
        .unwrap()
        .unwrap()
    }

    fn stored_events(ids: &[String]) -> i64 {
        Spi::get_one_with_args::<i64>(
            "SELECT count(*) FROM user_metrics.events WHERE event_id = ANY ($1::text[])",
            &[ids.to_vec().into()],
        )
        .unwrap()
        .unwrap()
    }

    #[pg_test]
    fn forget_user_reaches_every_form_of_the_address_and_nothing_longer() {
        let mut runner = TestRunner::new(Config {
            cases: 150,
            failure_persistence: None,
            ..Config::default()
        });
        let reached = std::cell::Cell::new(0_i64);
        runner
            .run(&case(), |case| {
                // DELETE rather than TRUNCATE: the whole test is one transaction, in
                // which each TRUNCATE would leave a set of files behind.
                Spi::run(
                    "DELETE FROM user_metrics.events; DELETE FROM user_metrics.sessions; \
                     DELETE FROM user_metrics.users; DELETE FROM user_metrics.rejected_events; \
                     DELETE FROM user_metrics.counters; DELETE FROM user_metrics.forgotten_users",
                )
                .unwrap();
                let canonical = normalize_email(&case.address).into_owned();
                let same = |form: &str| normalize_email(form) == canonical;

                let mut held = Vec::new();
                let mut held_ids = Vec::new();
                for (n, (before, after, cases, decomposed, place)) in case.held.iter().enumerate() {
                    let form = written(&case.address, cases, *decomposed);
                    prop_assume!(same(&form));
                    let text = format!("{}{form}{}", BEFORE[*before], AFTER[*after]);
                    // `email=ana@x.com` is an address of its own: as user.email it is
                    // another person, who stays. Elsewhere it mentions ana@x.com.
                    let place = match place {
                        Place::Email
                            if check_address(&normalize_email(&text)).is_ok() && !same(&text) =>
                        {
                            Place::Nested(0)
                        }
                        other => *other,
                    };
                    let marker = format!("held-{n}");
                    held.push(payload(&text, place, &marker));
                    held_ids.push(marker);
                }
                let mut decoys = Vec::new();
                for (n, (glue_before, glue, cases, place)) in case.decoys.iter().enumerate() {
                    let form = written(&case.address, cases, false);
                    prop_assume!(same(&form));
                    let text = if *glue_before {
                        format!("{}{form}", GLUED_BEFORE[glue % GLUED_BEFORE.len()])
                    } else {
                        format!("{form}{}", GLUED_AFTER[glue % GLUED_AFTER.len()])
                    };
                    // Decoys stay in the quarantine: never a valid event.
                    let place = match place {
                        Place::Email | Place::Bare => Place::Key,
                        other => *other,
                    };
                    decoys.push(payload(&text, place, &format!("decoy-{n}")));
                }
                let mut batch = held.clone();
                batch.extend(decoys.iter().cloned());
                let summary = ingest(&Value::Array(batch));
                prop_assert_eq!(
                    summary["accepted"].as_i64().unwrap() + summary["rejected"].as_i64().unwrap(),
                    (held.len() + decoys.len()) as i64
                );
                // Every held payload is kept somewhere before the erasure.
                prop_assert_eq!(
                    quarantined(&held) + stored_events(&held_ids),
                    held.len() as i64
                );
                prop_assert_eq!(quarantined(&decoys), decoys.len() as i64);

                let erase_as = written(&case.address, &case.erase_as.0, case.erase_as.1);
                prop_assume!(same(&erase_as));
                let removed = Spi::get_one_with_args::<JsonB>(
                    "SELECT user_metrics.forget_user($1)",
                    &[erase_as.clone().into()],
                )
                .unwrap()
                .unwrap()
                .0;

                prop_assert_eq!(
                    quarantined(&held),
                    0,
                    "{} left a copy: {}",
                    erase_as,
                    removed
                );
                prop_assert_eq!(stored_events(&held_ids), 0);
                prop_assert_eq!(
                    count("SELECT count(*) FROM user_metrics.users"),
                    0,
                    "{}",
                    removed
                );
                prop_assert_eq!(
                    quarantined(&decoys),
                    decoys.len() as i64,
                    "a decoy went: {}",
                    removed
                );
                prop_assert_eq!(
                    count("SELECT count(*) FROM user_metrics.rejected_events"),
                    decoys.len() as i64
                );
                reached.set(reached.get() + removed["quarantined"].as_i64().unwrap());
                Ok(())
            })
            .unwrap();
        assert!(reached.get() > 100, "the cases quarantined the address");
    }
}
