"""The same events give the same stored result whether they arrive one per call
or in one batch: users, sessions with their totals, events, and the quarantine."""
import json
import random

import psycopg

FINGERPRINT = """
    SELECT (SELECT json_agg(u ORDER BY u.email) FROM (SELECT email, name FROM user_metrics.users) u),
           (SELECT json_agg(s ORDER BY s.client_session_id, s.email) FROM (
                SELECT s.client_session_id, u.email, s.started_at, s.ended_at, s.device, s.event_count,
                       s.talked_time, s.microphone_used, s.speaker_used, s.sentiment_sum, s.sentiment_count
                FROM user_metrics.sessions s JOIN user_metrics.users u ON u.user_key = s.user_key) s),
           (SELECT json_agg(e ORDER BY e::text) FROM (
                SELECT e.event_id, s.client_session_id, e.talked_time, e.microphone_used, e.speaker_used,
                       e.voice_sentiment, e.recorded_at
                FROM user_metrics.events e JOIN user_metrics.sessions s ON s.id = e.session_id) e),
           (SELECT json_agg(r ORDER BY r::text) FROM (
                SELECT error_code, event_id, payload FROM user_metrics.rejected_events) r)
"""


def workload(count=400, sessions=30, users=8, seed=7):
    rng = random.Random(seed)
    owners = {f"s{n}": f"user{rng.randrange(users)}@example.com" for n in range(sessions)}
    events = []
    for n in range(count):
        session = f"s{rng.randrange(sessions)}"
        email = owners[session] if rng.random() > 0.05 else "intruder@example.com"
        e = {
            "event_id": f"e{n}" if rng.random() > 0.05 else None,
            "recorded_at": f"2026-11-{10 + rng.randrange(10)}T10:00:00Z",
            "user": {"email": email.upper() if rng.random() < 0.2 else email,
                     "name": rng.choice(["", "A", "B", None])},
            "session": {"id": session, "started_at": f"2026-11-10T{rng.randrange(10, 20)}:00:00Z",
                        "ended_at": f"2026-11-10T{rng.randrange(20, 23)}:00:00Z",
                        "device": rng.choice([None, {"id": f"d{rng.randrange(3)}", "os": "x"}])},
            "metrics": {"talked_time": rng.randrange(0, 4000) / 4,
                        "microphone_used": rng.choice([True, False, None]),
                        "speaker_used": rng.choice([True, False, None]),
                        "voice_sentiment": rng.choice([None, 0.25, -0.5, 1])},
        }
        if rng.random() < 0.05:
            e["metrics"]["talked_time"] = -1
        events.append(e)
        if rng.random() < 0.05:
            events.append(events[rng.randrange(len(events))])
    return events


def fingerprint(conn):
    return conn.execute(FINGERPRINT).fetchone()


def test_one_per_call_and_one_batch_store_the_same(db):
    events = workload()
    db.execute("SET TimeZone = 'UTC'")
    for e in events:
        db.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (json.dumps(e),))
    one_by_one = fingerprint(db)
    db.execute("TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, "
               "user_metrics.rejected_events, user_metrics.counters")
    summary = db.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (json.dumps(events),)).fetchone()[0]
    assert summary["accepted"] > 300 and summary["duplicates"] > 0 and summary["rejected"] > 10, summary
    assert fingerprint(db) == one_by_one


# More than the rows one statement takes (SLICE in src/storage/slices.rs): such a
# call stores its users, sessions and events in slices.
SLICE = 5_000


def test_a_batch_longer_than_a_slice_stores_what_calls_of_a_thousand_store(db):
    events = workload(count=2 * SLICE + 2_000, sessions=SLICE + 1_500, users=400, seed=11)
    assert len({e["session"]["id"] for e in events}) > SLICE
    db.execute("SET TimeZone = 'UTC'")

    def send(batches):
        totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
        for batch in batches:
            summary = db.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)",
                                 (json.dumps(batch),)).fetchone()[0]
            for key in totals:
                totals[key] += summary[key]
        return totals

    def empty():
        db.execute("TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, "
                   "user_metrics.rejected_events, user_metrics.counters")

    # A part stored first, so that the long call meets existing sessions and
    # repeats as well as new ones.
    first = events[:3_000]
    thousands = [events[i:i + 1_000] for i in range(0, len(events), 1_000)]
    send(thousands[:3])
    in_thousands = send(thousands)
    expected = fingerprint(db)
    counts = db.execute("SELECT user_metrics.health()").fetchone()[0]
    empty()

    send([first[i:i + 1_000] for i in range(0, len(first), 1_000)])
    in_one_call = send([events])
    assert in_one_call == in_thousands
    assert in_one_call["duplicates"] >= len(first) and in_one_call["accepted"] > SLICE
    assert fingerprint(db) == expected
    health = db.execute("SELECT user_metrics.health()").fetchone()[0]
    assert {k: health[k] for k in ("users", "sessions", "events", "rejected")} == \
        {k: counts[k] for k in ("users", "sessions", "events", "rejected")}
    assert health["sessions"] > SLICE
