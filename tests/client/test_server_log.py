"""What a call puts in the server log. No line the extension causes carries the
payload: not the LOG line of a call that quarantined events, not the ERROR of an
invalid event in raise mode, and PostgreSQL adds no STATEMENT line to either (with
client-side binding that line would hold the whole batch). This holds whether the
client binds parameters on the server (extended protocol) or in the client (literal
SQL, as psql, many ORMs and poolers in simple-protocol mode send it), with
log_min_error_statement at its default. And PostgreSQL's own errors met inside a
call reach the log whole: a deadlock keeps its per-process lines."""
import re
import threading
import time
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from events import event


def log_size(server_log):
    with open(server_log, "rb") as log:
        return log.seek(0, 2)


def log_since(server_log, offset):
    with open(server_log, "rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8", errors="replace")


def personal_batch(token):
    """A valid event, one with a malformed e-mail and one with a bad number, every
    e-mail and name carrying `token`."""
    return [
        event("ok-" + token, f"ana.{token}@example.com", "s-" + token, "2026-11-23T09:00:00Z", 1,
              user__name=f"Ana {token}"),
        event("bad-email-" + token, f"bob.{token}@@example.com", "s2-" + token,
              "2026-11-23T09:00:00Z", 1, user__name=f"Bob {token}"),
        event("bad-number-" + token, f"cleo.{token}@example.com", "s3-" + token,
              "2026-11-23T09:00:00Z", -1, user__name=f"Cleo {token}"),
    ]


def call(conn, binding, batch, on_error):
    """Server-side binding sends the batch as a parameter; client-side binding
    (psycopg's ClientCursor) sends one SQL text with the batch in it."""
    cursor = conn.cursor() if binding == "server" else psycopg.ClientCursor(conn)
    cursor.execute("SELECT user_metrics.ingest_metrics(%s, %s)", (Jsonb(batch), on_error))
    return cursor.fetchone()[0]


@pytest.mark.parametrize("binding", ["server", "client"])
@pytest.mark.parametrize("on_error", ["quarantine", "raise"])
def test_no_log_line_of_a_call_carries_the_payload(db, server_log, binding, on_error):
    assert db.execute("SHOW log_min_error_statement").fetchone()[0] == "error"
    token = uuid.uuid4().hex[:12]
    batch = personal_batch(token)
    offset = log_size(server_log)

    if on_error == "quarantine":
        summary = call(db, binding, batch, on_error)
        assert (summary["accepted"], summary["rejected"]) == (1, 2)
        expected_line = "ingest_metrics rejected 2 of 3 events (invalid_value 2)"
    else:
        with pytest.raises(psycopg.errors.InvalidParameterValue) as raised:
            call(db, binding, batch, on_error)
        # The client still gets the value, in the DETAIL.
        assert raised.value.diag.message_primary == "invalid event at index 1: user.email: invalid_value"
        assert f"bob.{token}@@example.com" in raised.value.diag.message_detail
        expected_line = "ERROR:  invalid event at index 1: user.email: invalid_value"

    logged = log_since(server_log, offset)
    assert expected_line in logged, logged[-2000:]
    sent = [value for e in batch for value in (e["user"]["email"], e["user"]["name"])]
    leaked = [value for value in sent if value in logged]
    assert leaked == [] and token not in logged, logged[-2000:]
    assert "STATEMENT:" not in logged, logged[-2000:]


def test_a_deadlock_keeps_its_per_process_lines_in_the_server_log(dsn, server_log):
    """Two calls in one transaction against another transaction doing the reverse.
    PostgreSQL's report lists each process and its query in a DETAIL meant for the
    log only; its HINT says to look there."""
    def batch(event_id, email, session):
        return Jsonb([event(event_id, email, session, "2026-11-23T09:00:00Z", 1)])

    token = uuid.uuid4().hex[:8]
    ana, bob = f"ana.{token}@example.com", f"bob.{token}@example.com"
    query = "SELECT user_metrics.ingest_metrics(%s)"
    first, second = psycopg.connect(dsn), psycopg.connect(dsn)
    try:
        # Only `second` looks for the deadlock, soon; `first` would wait for minutes.
        first.execute("SET deadlock_timeout = '100s'")
        second.execute("SET deadlock_timeout = '200ms'")
        first.execute(query, (batch("a1-" + token, ana, "sa-" + token),))
        second.execute(query, (batch("b1-" + token, bob, "sb-" + token),))
        offset = log_size(server_log)
        waiting = threading.Thread(
            target=first.execute, args=(query, (batch("b2-" + token, bob, "sb-" + token),)))
        waiting.start()
        time.sleep(0.3)
        with pytest.raises(psycopg.errors.DeadlockDetected) as raised:
            second.execute(query, (batch("a2-" + token, ana, "sa-" + token),))
        second.rollback()
        waiting.join()
        first.rollback()
    finally:
        first.close()
        second.close()

    diag = raised.value.diag
    assert raised.value.sqlstate == "40P01"
    assert diag.message_hint == "See server log for query details."
    assert re.search(r"Process \d+ waits for ShareLock on transaction \d+; blocked by process \d+",
                     diag.message_detail)
    assert diag.context.startswith("while inserting index tuple"), diag.context

    logged = log_since(server_log, offset)
    report = logged[logged.index("ERROR:  deadlock detected"):]
    assert len(re.findall(r"Process \d+: SELECT user_metrics\.ingest_metrics\(\$1\)", report)) == 2, report
    assert "HINT:  See server log for query details." in report
    assert "CONTEXT:  while inserting index tuple" in report
    assert "STATEMENT:" not in report
