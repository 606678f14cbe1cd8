"""Ingestion that goes on while something else happens (an upgrade): connections
calling ingest_metrics in a loop until told to stop, every batch sent twice (the
second time after the connection's next batch, as a client retries), with each
call's outcome and timing kept so that a test can say how many calls overlapped a
moment, and what the database must hold afterwards."""
import random
import threading
import time
from collections import defaultdict

import psycopg
from psycopg.types.json import Jsonb

from events import event

USERS = 12
SESSIONS = 40


class ContinuousLoad:
    """`connections` threads, thread k connected to dsns[k % len(dsns)], each
    sending batches of 1 to 50 new events (quarter seconds, which add up exactly
    in floating point) over sessions shared by all threads (a session always
    belongs to the same user, e-mail sometimes upper-cased)."""

    def __init__(self, dsns, connections=8, seed=17):
        self.dsns = dsns
        self.connections = connections
        self.seed = seed
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.calls = []  # (dsn, started, ended, error or None)
        self.totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
        self.sent = defaultdict(list)  # dsn -> every distinct event sent there
        self.threads = []

    def start(self):
        self.threads = [threading.Thread(target=self._worker, args=(k,), daemon=True)
                        for k in range(self.connections)]
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        """Stops the loops (each sends its last batch a second time first) and
        waits for them."""
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in self.threads), "a load connection is stuck"

    def calls_between(self, start, end, dsn=None):
        """The calls (to dsn, or to any) that ran at some moment between start and
        end (time.monotonic())."""
        return [c for c in self.calls if c[1] < end and c[2] > start and dsn in (None, c[0])]

    def failures(self):
        """(dsn, error) of every call that failed."""
        return [(c[0], c[3]) for c in self.calls if c[3] is not None]

    def _batch(self, rng, thread, number):
        owner = {f"s-{n}": f"user{n % USERS}@example.com" for n in range(SESSIONS)}
        batch = []
        for n in range(rng.choice([1, 1, 5, 20, 50])):
            session = f"s-{rng.randrange(SESSIONS)}"
            email = owner[session]
            if rng.random() < 0.3:
                email = email.upper()
            batch.append(event(f"t{thread}-b{number}-{n}", email, session,
                               f"2026-11-{16 + rng.randrange(7)}T{rng.randrange(24):02d}:00:00Z",
                               rng.randrange(0, 2400) / 4))
        return batch

    def _call(self, conn, dsn, batch):
        started = time.monotonic()
        error = None
        try:
            summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(batch),)).fetchone()[0]
        except psycopg.Error as e:  # kept and asserted on by the test
            error = e
        ended = time.monotonic()
        with self.lock:
            self.calls.append((dsn, started, ended, error))
            if error is None:
                for key in self.totals:
                    self.totals[key] += summary[key]

    def _worker(self, thread):
        rng = random.Random(self.seed * 1000 + thread)
        dsn = self.dsns[thread % len(self.dsns)]
        try:
            conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as error:  # counted as a failed call
            with self.lock:
                self.calls.append((dsn, time.monotonic(), time.monotonic(), error))
            return
        with conn:
            previous, number = None, 0
            while not self.stopping.is_set():
                batch = self._batch(rng, thread, number)
                number += 1
                with self.lock:
                    self.sent[dsn].extend(batch)
                self._call(conn, dsn, batch)
                if previous is not None:
                    self._call(conn, dsn, previous)
                previous = batch
            if previous is not None:
                self._call(conn, dsn, previous)


def expected_sessions(events):
    """{(e-mail, session id): [event count, talked time]} for the events."""
    sessions = defaultdict(lambda: [0, 0.0])
    for e in events:
        key = (e["user"]["email"].lower(), e["session"]["id"])
        sessions[key][0] += 1
        sessions[key][1] += e["metrics"]["talked_time"]
    return dict(sessions)


def stored_sessions(conn):
    """The same, as the database holds it (0.3.0's tables)."""
    return {(email, sid): [count, float(talked)] for email, sid, count, talked in conn.execute(
        "SELECT u.email, s.client_session_id, s.event_count, s.talked_time "
        "FROM user_metrics.sessions s JOIN user_metrics.users u ON u.user_key = s.user_key")}
