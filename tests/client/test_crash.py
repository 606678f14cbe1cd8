"""Crash safety: a backend killed, or the whole server stopped in immediate mode,
in the middle of a large ingest_metrics call. Afterwards the call is either
entirely visible or not at all, a retry stores it exactly once, and the sessions'
running totals and health()'s counts agree with the tables."""
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 60_000


def batch(prefix):
    return json.dumps([{
        "event_id": f"{prefix}-{n}",
        "user": {"email": f"crash{n % 300}@example.com"},
        "session": {"id": f"{prefix}-s{n % 3000}", "started_at": 1795424400 + n % 3000},
        "metrics": {"talked_time": 1.5},
    } for n in range(EVENTS)])


def ingest_in_background(dsn, payload):
    """Starts the call on its own connection; returns (thread, backend pid, errors)."""
    conn = psycopg.connect(dsn, autocommit=True)
    pid = conn.info.backend_pid
    errors = []

    def run():
        try:
            conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (payload,))
        except psycopg.Error as error:
            errors.append(error)
        finally:
            conn.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, pid, errors


def wait_until_busy(dsn, pid, thread, errors):
    """Waits until the call is storing the batch: past parsing and validation, its
    transaction holds the lock that writing to user_metrics.sessions takes. A fixed
    delay would not do: the same call takes half as long on PostgreSQL 18 as on 15."""
    deadline = time.monotonic() + 30
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert thread.is_alive(), f"the call ended before it could be interrupted: {errors}"
            storing = conn.execute(
                "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND granted "
                "AND relation = 'user_metrics.sessions'::regclass AND mode = 'RowExclusiveLock')",
                (pid,)).fetchone()[0]
            if storing:
                return
            time.sleep(0.01)
    raise AssertionError("the ingest call never started storing")


def stored(dsn, prefix):
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM user_metrics.events WHERE event_id LIKE %s",
                            (prefix + "-%",)).fetchone()[0]


def assert_totals_agree_with_events(dsn):
    with psycopg.connect(dsn) as conn:
        disagreeing = conn.execute("""
            SELECT count(*) FROM user_metrics.sessions s
            LEFT JOIN (SELECT session_id, count(*) AS n, sum(talked_time) AS talked
                       FROM user_metrics.events GROUP BY session_id) e ON e.session_id = s.id
            WHERE s.event_count <> coalesce(e.n, 0) OR s.talked_time <> coalesce(e.talked, 0)""").fetchone()[0]
        assert disagreeing == 0


def assert_health_counts_are_exact(dsn):
    """health()'s counts are kept in the transactions that write rows, so a crash
    leaves them exactly right (the statistics system is reset by one)."""
    with psycopg.connect(dsn) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM user_metrics.users), "
            "(SELECT count(*) FROM user_metrics.sessions), "
            "(SELECT count(*) FROM user_metrics.events), "
            "(SELECT count(*) FROM user_metrics.rejected_events)").fetchone()
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
    assert (health["users"], health["sessions"], health["events"], health["rejected"]) == counts


def retry_exactly_once(dsn, prefix, payload):
    with psycopg.connect(dsn, autocommit=True) as conn:
        first = conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (payload,)).fetchone()[0]
        again = conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (payload,)).fetchone()[0]
    assert (first["accepted"], first["duplicates"]) == (EVENTS, 0)
    assert (again["accepted"], again["duplicates"]) == (0, EVENTS)
    assert stored(dsn, prefix) == EVENTS


def test_a_killed_backend_leaves_nothing_and_the_retry_stores_once(dsn):
    payload = batch("kill")
    thread, pid, errors = ingest_in_background(dsn, payload)
    wait_until_busy(dsn, pid, thread, errors)
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    thread.join()
    assert errors, "the call was interrupted"
    assert stored(dsn, "kill") == 0
    assert_totals_agree_with_events(dsn)
    retry_exactly_once(dsn, "kill", payload)
    assert_totals_agree_with_events(dsn)


def test_an_immediate_shutdown_leaves_nothing_and_the_retry_stores_once(dsn):
    cluster, port = os.environ["USER_METRICS_TEST_CLUSTER"], os.environ["USER_METRICS_TEST_PORT"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, "
                     "user_metrics.rejected_events, user_metrics.counters")
        conn.execute("SELECT user_metrics.ingest_metrics('[{\"bad\": 1}]')")
    payload = batch("crash")
    thread, pid, errors = ingest_in_background(dsn, payload)
    wait_until_busy(dsn, pid, thread, errors)
    subprocess.run([ROOT / "scripts" / "cluster.sh", "crash", cluster], check=True)
    thread.join()
    assert errors, "the call was interrupted"
    # Starting again runs crash recovery from the WAL.
    subprocess.run([ROOT / "scripts" / "cluster.sh", "start", cluster, port], check=True)
    assert stored(dsn, "crash") == 0
    assert_totals_agree_with_events(dsn)
    assert_health_counts_are_exact(dsn)
    retry_exactly_once(dsn, "crash", payload)
    assert_totals_agree_with_events(dsn)
    # After a crash plus new rows, and after VACUUM and a statistics reset: still exact.
    assert_health_counts_are_exact(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM user_metrics.events")
        conn.execute("SELECT pg_stat_reset()")
    assert_health_counts_are_exact(dsn)
