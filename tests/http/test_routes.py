"""Every route of user-metrics-http and every status it answers with, over real
HTTP, compared with what the extension's functions return for the same call."""
import json
import threading
import time
from decimal import Decimal

import psycopg
import requests
from psycopg.types.json import Jsonb

from conftest import BODY_LIMIT, PORT, TIMEOUT_MS, Server, server_conninfo
from events import event


def ingest(server, body, **params):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(server.url + "/ingest", data=data, params=params, headers=server.writer, timeout=30)


def read(server, path, **params):
    return requests.get(server.url + path, params=params, headers=server.reader, timeout=30)


def assert_error(response, status, code, sqlstate=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == code and body["message"], body
    assert body.get("sqlstate") == sqlstate, body
    return body


SAMPLE = [
    event("e-1", "Ana@Example.com", "s-1", "2026-11-16T09:00:00Z", 150.25,
          user__name="Ana Lima", session__ended_at="2026-11-16T09:30:00Z",
          metrics__microphone_used=True, metrics__voice_sentiment=0.5),
    event("e-2", "ana@example.com", "s-1", "2026-11-16T09:00:00Z", 0.25),
    event("e-3", "bob@example.com", "s-2", "2026-11-18T12:00:00Z", 300.0, user__name="Bob"),
]


def test_ingest_returns_the_summary_of_ingest_metrics(server, db):
    response = ingest(server, SAMPLE)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": 0, "errors": []}
    # Sent again: duplicates, as the function says.
    again = ingest(server, SAMPLE).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    # One object is one event; a refused one is quarantined with its code.
    bad = ingest(server, event("e-4", "c@example.com", "s-3", "2026-11-16T09:00:00", 1)).json()
    assert bad["rejected"] == 1 and bad["errors"][0]["code"] == "invalid_timestamp"
    assert db.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 1


def test_ingest_keeps_the_decimals_as_sent(server, db):
    body = '[{"event_id":"d-1","user":{"email":"d@example.com"},"session":{"id":"s-d",' \
           '"started_at":"2026-11-16T09:00:00Z"},"metrics":{"talked_time":12.3456789012,"voice_sentiment":0.10}}]'
    assert ingest(server, body).json()["accepted"] == 1
    talked, sentiment = db.execute("SELECT talked_time, voice_sentiment FROM user_metrics.events").fetchone()
    # 9 decimal places kept (README), and 0.10 stays 0.10, not a binary float.
    assert (talked, str(sentiment)) == (Decimal("12.345678901"), "0.10")


def test_ingest_statuses(server, db):
    # 400: malformed JSON, told before the database is asked.
    body = assert_error(ingest(server, b'[{"event_id": '), 400, "bad_request")
    assert "not JSON" in body["message"]
    # 400: JSON that PostgreSQL's jsonb refuses (SQLSTATE 22P05).
    assert_error(ingest(server, '{"a": "\\u0000"}'), 400, "bad_request", "22P05")
    # 400: an unknown query parameter.
    assert_error(ingest(server, SAMPLE, mode="raise"), 400, "bad_request")
    # 413: over the server's body limit.
    assert_error(ingest(server, b" " * (BODY_LIMIT + 1) + b"[]"), 413, "payload_too_large")
    # 413: over the extension's 100,000 events per call (SQLSTATE 54000).
    body = assert_error(ingest(server, "[" + ",".join(["{}"] * 100_001) + "]"), 413,
                        "payload_too_large", "54000")
    assert "100000" in body["message"].replace(",", "")
    # 422: raise mode refusing an invalid event, with the function's message and DETAIL.
    bad = [SAMPLE[0], event("e-9", "z@example.com", "s-9", "2026-11-16T09:00:00Z", -5)]
    body = assert_error(ingest(server, bad, on_error="raise"), 422, "unprocessable", "22023")
    assert body["message"] == "invalid event at index 1: metrics.talked_time: invalid_value"
    assert "-5" in body["detail"]
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 0
    # 422: an on_error the function does not take, and a body that is not an event.
    assert_error(ingest(server, SAMPLE, on_error="ignore"), 422, "unprocessable", "22023")
    assert_error(ingest(server, "42"), 422, "unprocessable", "22023")
    # 200 in raise mode when every event is valid.
    assert ingest(server, SAMPLE, on_error="raise").json()["accepted"] == 3


def test_health(server, db):
    public = requests.get(server.url + "/health", timeout=10)
    assert public.status_code == 200
    assert public.json() == {"status": "ok", "version": db.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'").fetchone()[0]}
    full = read(server, "/health")
    assert full.status_code == 200
    expected = db.execute("SELECT user_metrics.health()").fetchone()[0]
    assert full.json() == expected and "events" in full.json()


def test_health_is_503_when_the_database_refuses_or_is_gone(server, dsn, tmp_path):
    # The health role may not call health(): 503 with the database's reason.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("REVOKE EXECUTE ON FUNCTION user_metrics.health() FROM user_metrics_reader")
        try:
            assert_error(requests.get(server.url + "/health", timeout=10), 503, "forbidden", "42501")
        finally:
            conn.execute("GRANT EXECUTE ON FUNCTION user_metrics.health() TO user_metrics_reader")
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    # No database where the server looks for it: 503, and every route says so.
    gone = Server(psycopg.conninfo.make_conninfo(server_conninfo(dsn), port="1"), PORT + 1, tmp_path,
                  wait_status=503)
    try:
        assert_error(requests.get(gone.url + "/health", timeout=10), 503, "database_unavailable")
        assert_error(requests.get(gone.url + "/reports/weekly", params={"week_ending": "2026-11-23", "tz": "UTC"},
                                  headers=gone.reader, timeout=10), 503, "database_unavailable")
    finally:
        assert gone.stop() == 0


def test_user_metrics(server, db):
    ingest(server, SAMPLE)
    response = read(server, "/users/ANA@example.com/metrics")
    assert response.status_code == 200
    assert response.json() == {"email": "ana@example.com", "name": "Ana Lima",
                               "total_talked_time": 150.5, "session_count": 1}
    row = db.execute("SELECT to_jsonb(r) FROM user_metrics.aggregate_user_metrics('ana@example.com') r").fetchone()[0]
    assert response.json() == row
    # The period [since, until).
    assert read(server, "/users/bob@example.com/metrics", since="2026-11-18T12:00:00Z").status_code == 200
    assert_error(read(server, "/users/bob@example.com/metrics", until="2026-11-18T12:00:00Z"), 404, "not_found")
    assert read(server, "/users/bob@example.com/metrics", since="2026-11-18",
                until="2026-11-19").json()["session_count"] == 1
    assert_error(read(server, "/users/nobody@example.com/metrics"), 404, "not_found")
    assert_error(read(server, "/users/bob@example.com/metrics", since="yesterday-ish"), 400, "bad_request")
    assert_error(read(server, "/users/bob@example.com/metrics", from_="x"), 400, "bad_request")


def test_sessions(server, db):
    ingest(server, SAMPLE)
    ingest(server, event("e-5", "carol@example.com", "s-1", "2026-11-17T09:00:00Z", 10))
    one = read(server, "/sessions/s-1", email="ana@example.com")
    assert one.status_code == 200
    [session] = one.json()
    assert (session["email"], session["talked_time"], session["event_count"], session["duration_seconds"],
            session["microphone_used"], session["avg_voice_sentiment"]) == \
        ("ana@example.com", 150.5, 2, 1800, True, 0.5)
    assert session["started_at"] == "2026-11-16T09:00:00+00:00"
    # Without the e-mail: every user's session of that id, ordered by e-mail.
    both = read(server, "/sessions/s-1").json()
    assert [s["email"] for s in both] == ["ana@example.com", "carol@example.com"]
    expected = db.execute("SELECT jsonb_agg(to_jsonb(r)) FROM user_metrics.get_session_details('s-1') r").fetchone()[0]
    assert both == expected
    assert_error(read(server, "/sessions/s-404"), 404, "not_found")
    assert_error(read(server, "/sessions/s-1", email="bob@example.com"), 404, "not_found")
    assert_error(read(server, "/sessions/s-1", user="x"), 400, "bad_request")


def test_weekly_report(server, db):
    ingest(server, SAMPLE)
    response = read(server, "/reports/weekly", week_ending="2026-11-23", tz="Europe/Berlin")
    assert response.status_code == 200
    expected = db.execute("SELECT jsonb_agg(to_jsonb(r)) FROM "
                          "user_metrics.generate_weekly_report('2026-11-23'::date, 'Europe/Berlin') r").fetchone()[0]
    assert response.json() == expected
    assert [r["email"] for r in expected] == ["bob@example.com", "ana@example.com"]
    assert read(server, "/reports/weekly", week_ending="2026-11-09", tz="UTC").json() == []
    assert_error(read(server, "/reports/weekly", week_ending="2026-11-23"), 400, "bad_request")
    assert_error(read(server, "/reports/weekly", week_ending="23/11/2026x", tz="UTC"), 400, "bad_request")
    assert_error(read(server, "/reports/weekly", week_ending="2026-11-23", tz="Mars/Olympus"),
                 422, "unprocessable", "22023")


def test_unknown_routes_and_methods(server):
    assert_error(requests.get(server.url + "/nope", timeout=10), 404, "not_found")
    assert_error(requests.get(server.url + "/ingest", headers=server.writer, timeout=10), 405,
                 "method_not_allowed")


def test_openapi_document_lists_every_route_and_status(server):
    response = requests.get(server.url + "/openapi.json", timeout=10)
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/ingest", "/health", "/users/{email}/metrics", "/sessions/{id}",
                                 "/reports/weekly", "/openapi.json", "/reports/activity", "/users/{email}/sessions",
                                 "/reports/ingestion", "/metrics", "/dashboard", "/"}
    statuses = {path: set(next(iter(ops.values()))["responses"]) for path, ops in doc["paths"].items()}
    assert statuses["/ingest"] >= {"200", "400", "401", "403", "408", "413", "422", "502", "503"}
    assert statuses["/health"] >= {"200", "401", "403", "503"}
    for path in ("/users/{email}/metrics", "/sessions/{id}"):
        assert statuses[path] >= {"200", "400", "401", "403", "404", "503"}
    assert statuses["/reports/weekly"] >= {"200", "400", "401", "403", "422", "502", "503"}
    assert statuses["/reports/activity"] >= {"200", "400", "401", "403", "422", "502", "503"}
    for path in ("/users/{email}/sessions", "/reports/ingestion"):
        assert statuses[path] >= {"200", "400", "401", "403", "502", "503"}
    assert statuses["/metrics"] >= {"200", "401", "403"}
    # Every $ref resolves.
    text = json.dumps(doc)
    for name in doc["components"]["schemas"]:
        assert f'"#/components/schemas/{name}"' in text or name == "Error"
    for ref in set(part.split('"')[0] for part in text.split('"$ref": "')[1:]):
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref


def test_a_request_over_the_time_limit_is_503_and_the_statement_is_cancelled(server, dsn, db):
    ingest(server, SAMPLE)
    # Another transaction holds Bob's user row: the call waits for it.
    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT user_metrics.ingest_metrics(%s)",
                       (Jsonb(event("h-1", "bob@example.com", "s-2", "2026-11-18T12:00:00Z", 1, user__name="B")),))
        started = time.monotonic()
        response = ingest(server, event("h-2", "bob@example.com", "s-2", "2026-11-18T12:00:00Z", 1,
                                        user__name="Robert"))
        took = time.monotonic() - started
        holder.rollback()
    assert response.status_code == 503, response.text
    assert response.json()["error"] in ("timeout", "retry")
    assert response.headers["retry-after"] == "1"
    assert TIMEOUT_MS / 1000 - 0.5 < took < TIMEOUT_MS / 1000 + 3
    # Nothing of it was stored, and the connection is usable again.
    assert db.execute("SELECT count(*) FROM user_metrics.events WHERE event_id LIKE 'h-%'").fetchone()[0] == 0
    assert ingest(server, event("h-3", "bob@example.com", "s-2", "2026-11-18T12:00:00Z", 1)).json()["accepted"] == 1


def test_the_503_when_the_pool_is_exhausted(server, dsn, db):
    """More requests than connections, all waiting on a held lock: those that get
    no connection within the time limit get 503, and the server recovers."""
    ingest(server, SAMPLE)
    results = []
    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT user_metrics.ingest_metrics(%s)",
                       (Jsonb(event("p-0", "bob@example.com", "s-2", "2026-11-18T12:00:00Z", 1, user__name="B")),))

        def call(n):
            results.append(ingest(server, event(f"p-{n}", "bob@example.com", "s-2", "2026-11-18T12:00:00Z", 1,
                                                user__name="Robert")).status_code)
        threads = [threading.Thread(target=call, args=(n,)) for n in range(1, 10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        holder.rollback()
    assert results == [503] * 9
    assert read(server, "/users/bob@example.com/metrics").status_code == 200


def test_activity_report(server, db):
    ingest(server, SAMPLE)
    response = read(server, "/reports/activity", **{"from": "2026-11-15", "to": "2026-11-19", "tz": "Europe/Berlin"})
    assert response.status_code == 200
    expected = db.execute("SELECT jsonb_agg(to_jsonb(r)) FROM user_metrics.generate_activity_report("
                          "'2026-11-15', '2026-11-19', 'Europe/Berlin') r").fetchone()[0]
    assert response.json() == expected
    assert [(r["period_start"], r["session_count"]) for r in expected] == [
        ("2026-11-15", 0), ("2026-11-16", 1), ("2026-11-17", 0), ("2026-11-18", 1), ("2026-11-19", 0)]
    weeks = read(server, "/reports/activity", **{"from": "2026-11-16", "to": "2026-11-22", "tz": "UTC",
                                                 "per": "week"}).json()
    assert weeks == [{"period_start": "2026-11-16", "session_count": 2, "user_count": 2,
                      "total_talked_time": 450.5}]
    assert_error(read(server, "/reports/activity", **{"from": "2026-11-16", "tz": "UTC"}), 400, "bad_request")
    assert_error(read(server, "/reports/activity", **{"from": "2026-11-16", "to": "2026-11-15", "tz": "UTC"}),
                 422, "unprocessable", "22023")
    assert_error(read(server, "/reports/activity", **{"from": "2026-11-16", "to": "2026-11-17", "tz": "UTC",
                                                      "per": "month"}), 422, "unprocessable", "22023")
    assert_error(read(server, "/reports/activity", **{"from": "2026-11-16", "to": "2026-11-17", "tz": "Mars/X"}),
                 422, "unprocessable", "22023")


def test_user_sessions(server, db):
    ingest(server, SAMPLE)
    ingest(server, event("e-6", "ana@example.com", "s-9", "2026-11-20T08:00:00Z", 5))
    response = read(server, "/users/ANA@example.com/sessions")
    assert response.status_code == 200
    expected = db.execute("SELECT jsonb_agg(to_jsonb(r)) FROM user_metrics.get_user_sessions('ana@example.com') r"
                          ).fetchone()[0]
    assert response.json() == expected and [s["session_id"] for s in expected] == ["s-1", "s-9"]
    assert [s["session_id"] for s in read(server, "/users/ana@example.com/sessions",
                                          since="2026-11-17").json()] == ["s-9"]
    assert read(server, "/users/nobody@example.com/sessions").json() == []
    assert_error(read(server, "/users/ana@example.com/sessions", since="now"), 400, "bad_request")


def test_ingestion_per_day(server, db):
    ingest(server, SAMPLE)
    ingest(server, [event("e-7", "z@example.com", "s-z", "2026-11-16T09:00:00", 1)])
    days = read(server, "/reports/ingestion").json()
    expected = db.execute("SELECT day::text, calls, accepted, duplicates, rejected, rejected_by_code, "
                          "extract(epoch FROM time_total)::float8 FROM user_metrics.ingest_stats ORDER BY day"
                          ).fetchall()
    assert [(d["day"], d["calls"], d["accepted"], d["duplicates"], d["rejected"], d["rejected_by_code"],
             d["seconds"]) for d in days] == [tuple(row) for row in expected]
    assert days[-1]["rejected_by_code"].get("invalid_timestamp", 0) >= 1
    today = days[-1]["day"]
    assert read(server, "/reports/ingestion", **{"from": today, "to": today}).json() == days[-1:]
    assert read(server, "/reports/ingestion", **{"to": "2000-01-01"}).json() == []
    assert_error(read(server, "/reports/ingestion", **{"from": "yesterday"}), 400, "bad_request")
