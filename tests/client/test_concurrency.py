"""The soak: several connections ingesting overlapping users and sessions at once,
each batch sent twice (a retry), some retried in reversed order, with single-event
calls and 1,000-event calls in the mix. The totals afterwards must be exactly
those computed here: no event lost or counted twice, and no deadlock or
serialization error reaching a client."""
import os
import threading
from collections import defaultdict

import psycopg
from psycopg.types.json import Jsonb

from events import overlapping_workload

# The soak's size: small by default for CI; e.g. USER_METRICS_SOAK_EVENTS=200000
# USER_METRICS_SOAK_CONNECTIONS=16 for a long run.
CONNECTIONS = int(os.environ.get("USER_METRICS_SOAK_CONNECTIONS", "8"))
EVENTS = int(os.environ.get("USER_METRICS_SOAK_EVENTS", "4000"))
USERS = 12
SESSIONS = 40


def build_workload(seed):
    # Quarter seconds add up exactly in floating point, so totals compare exactly.
    return overlapping_workload(seed, EVENTS, USERS, SESSIONS,
                                talked=lambda rng: rng.randrange(0, 2400) / 4,
                                batch_sizes=[1, 1, 7, 50, 200, 1000])


def send_concurrently(dsn, batches, connections):
    """Sends the batches over `connections` connections at once, each taking every
    connections-th batch, one call per batch. Returns the summed summaries and the
    exceptions the connections met."""
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    failures = []
    lock = threading.Lock()

    def worker(mine):
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for batch in mine:
                    summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                                           (Jsonb(batch),)).fetchone()[0]
                    with lock:
                        for key in totals:
                            totals[key] += summary[key]
        except Exception as error:  # collected and asserted on by the caller
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(batches[k::connections],))
               for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return totals, failures


def empty_tables(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE user_metrics.events, user_metrics.sessions, "
                     "user_metrics.users, user_metrics.rejected_events, user_metrics.counters")


def expected_sessions(events):
    """Per session, keyed by (e-mail, session id) as a session is a user's: the
    number of events and the talked time that the stored totals must show."""
    expected = defaultdict(lambda: [0, 0.0])
    for e in events:
        key = (e["user"]["email"].lower(), e["session"]["id"])
        expected[key][0] += 1
        expected[key][1] += e["metrics"]["talked_time"]
    return dict(expected)


def stored_sessions(conn):
    return {(email, sid): [count, talked] for email, sid, count, talked in conn.execute(
        "SELECT u.email, s.client_session_id, s.event_count, s.talked_time "
        "FROM user_metrics.sessions s JOIN user_metrics.users u ON u.user_key = s.user_key")}


def test_concurrent_overlapping_ingestion_counts_every_event_once(dsn):
    owner, events, batches = build_workload(seed=4242)
    empty_tables(dsn)

    totals, failures = send_concurrently(dsn, batches, CONNECTIONS)

    assert failures == []
    assert totals == {"accepted": EVENTS, "duplicates": EVENTS, "rejected": 0}
    print(f"soak: {CONNECTIONS} connections x {EVENTS} events x 2 sends ({len(batches)} calls)")

    expected_session = expected_sessions(events)
    with psycopg.connect(dsn) as conn:
        assert stored_sessions(conn) == expected_session
        assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == EVENTS
        # Reports agree with the events themselves.
        per_user = defaultdict(lambda: [0.0, set()])
        for e in events:
            user = e["user"]["email"].lower()
            per_user[user][0] += e["metrics"]["talked_time"]
            per_user[user][1].add(e["session"]["id"])
        report = {email: (talked, count) for email, _, talked, count in conn.execute(
            "SELECT * FROM user_metrics.aggregate_user_metrics()")}
        assert report == {u: (t, len(s)) for u, (t, s) in per_user.items()}
        owners = dict(conn.execute(
            "SELECT s.client_session_id, u.email FROM user_metrics.sessions s "
            "JOIN user_metrics.users u ON u.user_key = s.user_key").fetchall())
        assert owners == {s: o for s, o in owner.items() if (o, s) in expected_session}


def test_concurrent_batches_longer_than_a_slice_count_every_event_once(dsn):
    # Calls of more than 5,000 events (SLICE in src/storage/slices.rs) store their
    # sessions and events in slices; most of these batches name over 5,000
    # sessions, so that both steps are sliced. Four connections at once, each
    # batch sent twice.
    events_count, sessions = 12_000, 40_000
    _, events, batches = overlapping_workload(
        99, events_count, 40, sessions, talked=lambda rng: rng.randrange(0, 2400) / 4,
        batch_sizes=[6_000, 5_500])
    assert max(len({e["session"]["id"] for e in b}) for b in batches) > 5_000
    empty_tables(dsn)

    totals, failures = send_concurrently(dsn, batches, 4)

    assert failures == []
    assert totals == {"accepted": events_count, "duplicates": events_count, "rejected": 0}
    expected = expected_sessions(events)
    with psycopg.connect(dsn) as conn:
        assert stored_sessions(conn) == expected
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
        assert (health["events"], health["sessions"]) == (events_count, len(expected))
