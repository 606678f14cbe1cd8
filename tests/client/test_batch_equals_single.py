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


def workload():
    rng = random.Random(7)
    owners = {f"s{n}": f"user{rng.randrange(8)}@example.com" for n in range(30)}
    events = []
    for n in range(400):
        session = f"s{rng.randrange(30)}"
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
