"""ingest_metrics and the reports called the way an application calls them."""
import psycopg
import pytest
from psycopg.types.json import Jsonb

from events import event


def ingest(conn, payload, on_error="quarantine"):
    return conn.execute("SELECT user_metrics.ingest_metrics(%s, %s)",
                        (Jsonb(payload), on_error)).fetchone()[0]


def test_a_batch_is_stored_and_summarized(db):
    summary = ingest(db, [
        event("e1", "Ana@Example.com", "s1", "2026-11-23T09:00:00Z", 10.5, user__name="Ana"),
        event("e2", "ana@example.com", "s1", "2026-11-23T08:00:00Z", 4.5),
        event("e1", "ana@example.com", "s1", "2026-11-23T09:00:00Z", 10.5),
        {"event_id": "e3", "user": {"email": "ana@example.com"}},
    ])
    assert summary == {
        "accepted": 2, "duplicates": 1, "rejected": 1,
        "errors": [{"index": 3, "event_id": "e3", "code": "missing_field",
                    "message": "session: required field is missing"}],
    }
    row = db.execute("SELECT * FROM user_metrics.get_session_details('s1')").fetchone()
    columns = [c.name for c in db.execute(
        "SELECT * FROM user_metrics.get_session_details('s1')").description]
    details = dict(zip(columns, row))
    assert details["email"] == "ana@example.com"
    assert details["name"] == "Ana"
    assert details["talked_time"] == 15.0
    assert details["event_count"] == 2
    assert details["started_at"].isoformat() == "2026-11-23T08:00:00+00:00"


def test_errors_arrive_as_driver_exceptions_with_sqlstate(db):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as raised:
        ingest(db, [event("e1", "a@x", "s1", "2026-11-23T09:00:00Z", -1)], on_error="raise")
    assert raised.value.sqlstate == "22023"
    # The message names the field and the code; the DETAIL, for the client only,
    # says what is wrong with the value.
    assert raised.value.diag.message_primary == "invalid event at index 0: metrics.talked_time: invalid_value"
    assert raised.value.diag.message_detail == "metrics.talked_time: expected a number from 0 to 86400, got -1"

    with pytest.raises(psycopg.errors.NullValueNotAllowed):
        db.execute("SELECT user_metrics.ingest_metrics(NULL)")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("SELECT user_metrics.ingest_metrics('[]', 'sometimes')")
    assert db.execute("SELECT count(*) FROM user_metrics.users").fetchone()[0] == 0


def test_raise_inside_a_client_transaction_rolls_back_the_call(dsn):
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE user_metrics.events, user_metrics.sessions, "
                     "user_metrics.users, user_metrics.rejected_events, user_metrics.counters")
        conn.commit()
        ingest(conn, [event("ok-1", "a@x", "s1", "2026-11-23T09:00:00Z", 1)])
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            ingest(conn, [event("ok-2", "a@x", "s1", "2026-11-23T09:00:00Z", 1),
                          event("bad", "a@x", "s1", "2026-11-23T09:00:00", 1)], on_error="raise")
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 0


def test_rejections_write_one_summary_line_to_the_server_log(db, server_log):
    marker = "log-marker-7f3a"
    ingest(db, [event(marker, "a@x", "s1", "2026-11-23T09:00:00Z", -1),
                event(marker + "-2", "a@x", "s1", "not a time", 1),
                event(marker + "-3", "a@x", "s1", "2026-11-23T09:00:00Z", 1)])
    with open(server_log, encoding="utf-8", errors="replace") as log:
        lines = [line for line in log if "ingest_metrics rejected" in line]
    assert any("rejected 2 of 3 events (invalid_timestamp 1, invalid_value 1); accepted 1, "
               "duplicates 0" in line for line in lines), lines[-5:]


def test_reports_return_typed_rows(db):
    ingest(db, [
        event("a", "a@x", "sa", "2026-11-20T10:00:00Z", 30),
        event("b", "b@x", "sb", "2026-11-21T10:00:00Z", 20),
        event("b2", "b@x", "sb2", "2026-11-22T10:00:00Z", 20),
    ])
    weekly = db.execute("SELECT email, session_count, total_talked_time FROM "
                        "user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')").fetchall()
    assert weekly == [("b@x", 2, 40.0), ("a@x", 1, 30.0)]
    totals = db.execute("SELECT * FROM user_metrics.aggregate_user_metrics(%s)", ("A@X",)).fetchall()
    assert totals == [("a@x", None, 30.0, 1)]
    health = db.execute("SELECT user_metrics.health()").fetchone()[0]
    assert health["status"] == "ok"
