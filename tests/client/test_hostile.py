"""The hostile input catalogue: every input either stores its valid events and
quarantines the bad one with the documented code and message and its payload
intact, or fails the whole call with the documented SQLSTATE and stores nothing;
and the backend stays up after each."""
import copy
import json

import psycopg
import pytest
from psycopg.types.json import Jsonb

GOOD = {
    "event_id": "good",
    "recorded_at": "2026-11-23T09:15:00Z",
    "user": {"email": "ana@example.com", "name": "Ana"},
    "session": {"id": "s-1", "started_at": "2026-11-23T09:00:00Z", "ended_at": "2026-11-23T09:30:00Z",
                "device": {"id": "d", "type": "desktop", "os": "macOS", "app_version": "1", "model": "m"}},
    "metrics": {"talked_time": 10, "microphone_used": True, "speaker_used": False, "voice_sentiment": 0.5},
}
TEN_KB = "x" * 10_240


def deep(levels):
    """JSON text nested `levels` arrays deep."""
    return "[" * levels + "]" * levels


def with_(path, value):
    """GOOD with the value at a dotted path replaced (a JSON-text value is spliced in raw)."""
    event = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = event
    for p in parents:
        node = node[p]
    node[last] = value
    return event


def without(path):
    event = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = event
    for p in parents:
        node = node[p]
    del node[last]
    return event


# (name, the bad event (a dict, or raw JSON text), code, exact message or None, message prefix)
REJECTED = [
    # Wrong JSON types, at every field.
    ("event_id is a number", with_("event_id", 7), "invalid_type", "event_id: expected a string, got a number"),
    ("recorded_at is a boolean", with_("recorded_at", True), "invalid_type",
     "recorded_at: expected an RFC 3339 string or Unix epoch seconds, got a boolean"),
    ("user is a string", with_("user", "ana@example.com"), "invalid_type", "user: expected an object, got a string"),
    ("user.email is an array", with_("user.email", ["a@b"]), "invalid_type", "user.email: expected a string, got an array"),
    ("user.name is an object", with_("user.name", {}), "invalid_type", "user.name: expected a string, got an object"),
    ("session is an array", with_("session", []), "invalid_type", "session: expected an object, got an array"),
    ("session.id is a number", with_("session.id", 12), "invalid_type", "session.id: expected a string, got a number"),
    ("session.started_at is an object", with_("session.started_at", {}), "invalid_type",
     "session.started_at: expected an RFC 3339 string or Unix epoch seconds, got an object"),
    ("session.ended_at is an array", with_("session.ended_at", [1]), "invalid_type",
     "session.ended_at: expected an RFC 3339 string or Unix epoch seconds, got an array"),
    ("session.device is a string", with_("session.device", "mbp"), "invalid_type",
     "session.device: expected an object, got a string"),
    ("device.id is a number", with_("session.device.id", 5), "invalid_type",
     "session.device.id: expected a string, got a number"),
    ("device.os is a boolean", with_("session.device.os", False), "invalid_type",
     "session.device.os: expected a string, got a boolean"),
    ("metrics is a number", with_("metrics", 3), "invalid_type", "metrics: expected an object, got a number"),
    ("talked_time is a string", with_("metrics.talked_time", "10"), "invalid_type",
     "metrics.talked_time: expected a number, got a string"),
    ("microphone_used is a string", with_("metrics.microphone_used", "yes"), "invalid_type",
     "metrics.microphone_used: expected a boolean, got a string"),
    ("speaker_used is a number", with_("metrics.speaker_used", 1), "invalid_type",
     "metrics.speaker_used: expected a boolean, got a number"),
    ("voice_sentiment is a string", with_("metrics.voice_sentiment", "0.5"), "invalid_type",
     "metrics.voice_sentiment: expected a number, got a string"),
    # Numbers out of range.
    ("talked_time 1e308", json.dumps(GOOD).replace('"talked_time": 10', '"talked_time": 1e308'), "invalid_value", None),
    ("talked_time a huge integer", json.dumps(GOOD).replace('"talked_time": 10', '"talked_time": ' + "9" * 400),
     "invalid_value", None),
    ("talked_time negative", with_("metrics.talked_time", -5), "invalid_value",
     "metrics.talked_time: expected a number from 0 to 86400, got -5"),
    ("talked_time just over a day", with_("metrics.talked_time", 86400.001), "invalid_value", None),
    ("voice_sentiment above 1", with_("metrics.voice_sentiment", 1.5), "invalid_value",
     "metrics.voice_sentiment: expected a number from -1 to 1, got 1.5"),
    ("epoch seconds far in the future", with_("session.started_at", 1e20), "invalid_value", None),
    ("epoch seconds before 1970", with_("session.started_at", -1), "invalid_value", None),
    # Timestamps.
    ("naive timestamp", with_("session.started_at", "2026-11-23T09:00:00"), "invalid_timestamp",
     'session.started_at: time has no UTC offset (add Z or +hh:mm), got "2026-11-23T09:00:00"'),
    ("malformed timestamp", with_("recorded_at", "2026-13-45T99:99:99Z"), "invalid_timestamp", None),
    ("words for a timestamp", with_("session.ended_at", "tomorrow"), "invalid_timestamp", None),
    ("empty timestamp", with_("session.started_at", ""), "invalid_timestamp", None),
    ("five-digit year", with_("session.started_at", "10000-01-01T00:00:00Z"), "invalid_timestamp", None),
    ("pre-1970 date", with_("session.started_at", "1969-12-31T23:59:59Z"), "invalid_value", None),
    ("end before start", with_("session.ended_at", "2026-11-23T08:00:00Z"), "invalid_value", None),
    # Empty and long strings.
    ("empty email", with_("user.email", ""), "invalid_value", None),
    ("empty session id", with_("session.id", ""), "invalid_value", "session.id: expected a non-empty string"),
    ("empty event_id", with_("event_id", ""), "invalid_value", "event_id: expected a non-empty string"),
    ("10 KB name", with_("user.name", TEN_KB), "invalid_value", "user.name: expected at most 256 characters, got 10240"),
    ("10 KB session id", with_("session.id", TEN_KB), "invalid_value",
     "session.id: expected at most 128 characters, got 10240"),
    ("10 KB event_id", with_("event_id", TEN_KB), "invalid_value", "event_id: expected at most 128 characters, got 10240"),
    ("10 KB device field", with_("session.device.model", TEN_KB), "invalid_value", None),
    ("10 KB unknown key", with_("metrics." + TEN_KB, 1), "unknown_field", None),
    # E-mails.
    ("email with a space", with_("user.email", "ana lima@example.com"), "invalid_value", None),
    ("email with two @", with_("user.email", "ana@@example.com"), "invalid_value", None),
    ("email without @", with_("user.email", "ana.example.com"), "invalid_value", None),
    # Structure.
    ("a number instead of an event", 42, "not_an_object", "event: expected an object, got a number"),
    ("a string instead of an event", '"event"', "not_an_object", "event: expected an object, got a string"),
    ("null instead of an event", None, "not_an_object", "event: expected an object, got null"),
    ("a nested array", [[GOOD]], "not_an_object", "event: expected an object, got an array"),
    ("missing session.started_at", without("session.started_at"), "missing_field",
     "session.started_at: required field is missing"),
    ("null talked_time", with_("metrics.talked_time", None), "missing_field",
     "metrics.talked_time: required field is missing"),
    ("unknown top-level key", with_("talk_time", 5), "unknown_field", "talk_time: unknown field"),
    ("10,000 levels deep as talked_time", json.dumps(GOOD).replace('"talked_time": 10', '"talked_time": ' + deep(10_000)),
     "invalid_type", "metrics.talked_time: expected a number, got an array"),
    ("10,000 levels deep in the device", json.dumps(GOOD).replace('"model": "m"', '"model": "m", "x": ' + deep(10_000)),
     "invalid_value", None),
    ("duplicate keys, the last one bad",
     json.dumps(GOOD).replace('"talked_time": 10', '"talked_time": 10, "talked_time": -1'), "invalid_value", None),
]


def send(conn, batch_text):
    return conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (batch_text,)).fetchone()[0]


def as_text(event):
    return event if isinstance(event, str) else json.dumps(event)


def valid(event_id, session):
    event = copy.deepcopy(GOOD)
    event["event_id"] = event_id
    event["session"]["id"] = session
    return event


@pytest.mark.parametrize("name,bad,code,message", REJECTED, ids=[r[0] for r in REJECTED])
def test_a_bad_event_is_quarantined_and_its_neighbours_stored(db, name, bad, code, message):
    batch = "[" + ",".join([json.dumps(valid("before", "s-before")), as_text(bad),
                                json.dumps(valid("after", "s-after"))]) + "]"
    summary = send(db, batch)
    assert summary["accepted"] == 2, summary
    assert summary["rejected"] == 1, summary
    error = summary["errors"][0]
    assert (error["index"], error["code"]) == (1, code), error
    if message is not None:
        assert error["message"] == message
    stored = db.execute("SELECT error_code, payload = %s::jsonb FROM user_metrics.rejected_events",
                        (as_text(bad),)).fetchall()
    assert stored == [(code, True)], "the quarantined payload is the event as sent"
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 2
    assert db.execute("SELECT 1").fetchone() == (1,), "the backend is still up"


ACCEPTED = [
    ("talked_time -0 is 0", with_("metrics.talked_time", -0.0), lambda row: row["talked_time"] == 0),
    ("a tiny sentiment", json.dumps(GOOD).replace('"voice_sentiment": 0.5', '"voice_sentiment": 1e-400'),
     lambda row: row["voice_sentiment"] == 0),
    ("the last instant of year 9999", with_("recorded_at", "9999-12-31T23:59:59.999999Z"), lambda row: True),
    ("right-to-left and zero-width text", with_("user.name", "\u202e\u200dأنا\u200f"),
     lambda row: row["name"] == "\u202e\u200dأنا\u200f"),
    ("emoji and combining marks", with_("session.id", "s-🎙️-e\u0301"), lambda row: row["session_id"] == "s-🎙️-e\u0301"),
    ("a non-ASCII upper-case email", with_("user.email", "ÉLODIE@EXAMPLE.COM"),
     lambda row: row["email"] == "élodie@example.com"),
    ("duplicate keys, the last one good",
     json.dumps(GOOD).replace('"talked_time": 10', '"talked_time": -1, "talked_time": 7'),
     lambda row: row["talked_time"] == 7),
    ("SQL in a string", with_("user.name", "'); DROP TABLE user_metrics.events; --"),
     lambda row: row["name"] == "'); DROP TABLE user_metrics.events; --"),
]


@pytest.mark.parametrize("name,event,check", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_odd_but_valid_events_are_stored_as_sent(db, name, event, check):
    summary = send(db, as_text(event))
    assert (summary["accepted"], summary["rejected"]) == (1, 0), summary
    row = db.execute("""
        SELECT e.talked_time, e.voice_sentiment, u.name, u.email, s.client_session_id AS session_id
        FROM user_metrics.events e JOIN user_metrics.sessions s ON s.id = e.session_id
        JOIN user_metrics.users u ON u.user_key = s.user_key""").fetchone()
    names = ["talked_time", "voice_sentiment", "name", "email", "session_id"]
    assert check(dict(zip(names, row))), row


CALL_ERRORS = [
    ("a NUL escape", '{"user": {"email": "a@b", "name": "x\\u0000y"}}', "22P05"),
    ("a lone surrogate", '{"user": {"email": "a@b", "name": "\\ud800"}}', "22P02"),
    ("not JSON at all", "{this is not json", "22P02"),
    ("a bare string", '"events"', "22023"),
    ("a bare number", "12", "22023"),
    ("JSON null", "null", "22023"),
]


@pytest.mark.parametrize("name,text,sqlstate", CALL_ERRORS, ids=[c[0] for c in CALL_ERRORS])
def test_payloads_that_are_not_batches_fail_the_whole_call(db, name, text, sqlstate):
    with pytest.raises(psycopg.Error) as raised:
        send(db, text)
    assert raised.value.sqlstate == sqlstate
    assert db.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 0
    assert db.execute("SELECT 1").fetchone() == (1,)


def test_a_hundred_thousand_events_with_one_bad_in_the_middle(db):
    events = [valid(f"e{n}", f"s{n % 500}") for n in range(100_000)]
    events[50_000] = with_("metrics.talked_time", "lots")
    summary = send(db, json.dumps(events))
    assert (summary["accepted"], summary["rejected"]) == (99_999, 1)
    assert summary["errors"][0]["index"] == 50_000
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 99_999
    assert db.execute("SELECT sum(event_count) FROM user_metrics.sessions").fetchone()[0] == 99_999


def test_more_than_a_hundred_thousand_events_is_refused_up_front(db):
    with pytest.raises(psycopg.errors.ProgramLimitExceeded) as raised:
        send(db, json.dumps([{}] * 100_001))
    assert "more than the limit of 100000" in str(raised.value)
    assert db.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 0


def test_a_50_mb_event_is_quarantined_intact(db):
    event = with_("session.device.notes", "n" * (50 * 1024 * 1024))
    text = json.dumps(event)
    summary = send(db, text)
    assert (summary["rejected"], summary["errors"][0]["code"]) == (1, "invalid_value")
    assert summary["errors"][0]["message"].startswith("session.device: expected at most 4096 bytes")
    same = db.execute("SELECT md5(payload::text) = md5(%s::jsonb::text) FROM user_metrics.rejected_events",
                      (text,)).fetchone()[0]
    assert same
    assert db.execute("SELECT 1").fetchone() == (1,)


def test_a_statement_timeout_cancels_the_call_and_stores_nothing(dsn, db):
    events = [valid(f"t{n}", f"s{n % 2000}") for n in range(60_000)]
    with psycopg.connect(dsn) as conn:
        conn.execute("SET statement_timeout = '200ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            send(conn, json.dumps(events))
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM user_metrics.sessions").fetchone()[0] == 0
