//! The batch rules: duplicates per user, key collisions and running totals.

use std::borrow::Cow;
use user_metrics_contract::*;

fn event<'a>(
    id: Option<&'a str>,
    email: &'a str,
    session: &'a str,
    start: i64,
    talked: &str,
) -> Event<'a> {
    Event {
        event_id: id.map(Cow::Borrowed),
        recorded_at: None,
        email: Cow::Borrowed(email),
        name: None,
        session_id: Cow::Borrowed(session),
        started_at: Timestamp::from_unix_micros(start),
        ended_at: None,
        device: None,
        talked_time: talked.parse().unwrap(),
        microphone_used: None,
        speaker_used: None,
        voice_sentiment: None,
    }
}

fn fates(events: &[Event], stored: &[(&str, &str)], refused: &[&str]) -> Vec<Fate> {
    classify(
        events,
        |email, id| stored.contains(&(email, id)),
        |event| refused.contains(&event.email.as_ref()),
    )
}

use Fate::*;

#[test]
fn ids_stored_before_or_earlier_in_the_batch_are_duplicates() {
    let events = [
        event(Some("a"), "u@x", "s", 0, "1.0"),
        event(Some("b"), "u@x", "s", 0, "1.0"),
        event(Some("a"), "u@x", "s", 0, "1.0"),
        event(None, "u@x", "s", 0, "1.0"),
        event(None, "u@x", "s", 0, "1.0"),
    ];
    assert_eq!(
        fates(&events, &[("u@x", "b")], &[]),
        [Store, Duplicate, Duplicate, Store, Store]
    );
}

#[test]
fn event_ids_are_per_user() {
    let events = [
        event(Some("a"), "ana@x", "s", 0, "1.0"),
        event(Some("a"), "eve@x", "s", 0, "1.0"),
        event(Some("b"), "eve@x", "t", 0, "1.0"),
        event(Some("a"), "eve@x", "t", 0, "1.0"),
    ];
    assert_eq!(
        fates(&events, &[("ana@x", "b")], &[]),
        [Store, Store, Store, Duplicate]
    );
}

#[test]
fn a_refused_user_s_events_are_refused_even_when_repeated() {
    let events = [
        event(Some("1"), "eve@x", "s", 0, "1.0"),
        event(Some("2"), "ana@x", "s", 0, "1.0"),
        event(Some("1"), "ana@x", "s", 0, "1.0"),
        event(Some("1"), "eve@x", "s", 0, "1.0"),
        event(Some("old"), "eve@x", "s", 0, "1.0"),
    ];
    assert_eq!(
        fates(&events, &[("eve@x", "old")], &["eve@x"]),
        [Refused, Store, Store, Refused, Refused]
    );
}

#[test]
fn totals_widen_sum_and_keep_the_first_device() {
    let mut a = event(Some("a"), "u@x", "s", 100, "1.5");
    a.ended_at = Some(Timestamp::from_unix_micros(200));
    a.microphone_used = Some(false);
    a.voice_sentiment = Some("0.5".parse().unwrap());
    let mut b = event(Some("b"), "u@x", "s", 50, "2.0");
    b.device = Some("{\"id\":\"first\"}".into());
    b.microphone_used = Some(true);
    b.speaker_used = Some(false);
    let mut c = event(Some("c"), "u@x", "s", 70, "4.0");
    c.ended_at = Some(Timestamp::from_unix_micros(150));
    c.device = Some("{\"id\":\"second\"}".into());
    c.voice_sentiment = Some("-0.25".parse().unwrap());
    let other = event(Some("d"), "v@x", "t", 10, "8.0");
    let events = [a, b, c, other];

    let totals = session_totals(&events, |p| p != 3);
    assert_eq!(totals.len(), 1);
    let s = &totals[&("u@x", "s")];
    assert_eq!(s.email, "u@x");
    assert_eq!(s.started_at.unix_micros, 50);
    assert_eq!(s.ended_at.map(|t| t.unix_micros), Some(200));
    assert_eq!(s.device, Some("{\"id\":\"first\"}"));
    assert_eq!(
        (s.event_count, s.talked_time.to_string()),
        (3, "7.5".into())
    );
    assert_eq!(
        (s.microphone_used, s.speaker_used),
        (Some(true), Some(false))
    );
    assert_eq!(
        (s.sentiment_sum.to_string(), s.sentiment_count),
        ("0.25".into(), 2)
    );

    let all = session_totals(&events, |_| true);
    assert_eq!(
        all.keys().copied().collect::<Vec<_>>(),
        [("u@x", "s"), ("v@x", "t")]
    );
    assert_eq!(all[&("v@x", "t")].microphone_used, None);

    // The same session id sent by two users is two sessions.
    let shared = [
        event(Some("a"), "u@x", "s", 0, "1.0"),
        event(Some("b"), "v@x", "s", 0, "2.0"),
    ];
    let split = session_totals(&shared, |_| true);
    assert_eq!(split.len(), 2);
    assert_eq!(split[&("v@x", "s")].talked_time.to_string(), "2.0");
}
