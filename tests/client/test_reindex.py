"""REINDEX while clients call, as README, "REINDEX" says: plain REINDEX (TABLE,
INDEX, SCHEMA) and REINDEX ... CONCURRENTLY, each statement several times over,
while 8 connections ingest without pause (every batch sent twice), 4 more send
the same new users, sessions, events and invalid event at the same moment
(retrying a failed call, as a client does), and one more reads every report.

Plain REINDEX: no call fails, nor does any REINDEX; every total is exact. Until
0.4.0 it deadlocked with single calls within a round or two: a call read a
table, REINDEX took SHARE on it and waited for an index the call had open, and
the call waited for SHARE to go before it could write the table.

REINDEX ... CONCURRENTLY: no call waits for it, but two calls storing the same
new key at the same moment may meet in the copy of the index being built (or
the old one, just swapped out), which INSERT ... ON CONFLICT does not settle: a
call may then fail with 23505, whose HINT says to call again. Every failure is
that one, and after the retries every total is exact."""
import threading
import time

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import drop_database, fresh_database
from continuous_load import ContinuousLoad, expected_sessions, stored_sessions
from events import event

CONNECTIONS = 8
RACERS = 4
RACE_EVENTS = 10
# Plain REINDEX is quick and deadlocked within a round or two; CONCURRENTLY takes
# seconds per statement, and one round keeps the calls running through all of it.
ROUNDS = {"plain": 5, "concurrently": 1}
TABLES = ["user_metrics.users", "user_metrics.sessions", "user_metrics.events",
          "user_metrics.rejected_events"]
STATEMENTS = {
    "plain": [*(f"REINDEX TABLE {t}" for t in TABLES),
              "REINDEX INDEX user_metrics.sessions_client_session_id_key",
              "REINDEX SCHEMA user_metrics"],
    "concurrently": [*(f"REINDEX TABLE CONCURRENTLY {t}" for t in TABLES),
                     "REINDEX INDEX CONCURRENTLY user_metrics.sessions_client_session_id_key",
                     "REINDEX SCHEMA CONCURRENTLY user_metrics"],
}
REPORTS = [
    "SELECT * FROM user_metrics.aggregate_user_metrics()",
    "SELECT * FROM user_metrics.aggregate_user_metrics('user1@example.com')",
    "SELECT * FROM user_metrics.get_session_details('s-1')",
    "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23'::date, 'UTC')",
    "SELECT user_metrics.health()",
]
# The keys concurrent calls both insert, settled by ON CONFLICT, and the names
# REINDEX ... CONCURRENTLY gives their copies.
UPSERT_KEYS = ["users_pkey", "sessions_client_session_id_key", "events_event_id_key",
               "rejected_events_payload_key"]
RETRY_HINT = "REINDEX ... CONCURRENTLY was rebuilding this index"


class Looping:
    """A thread running step(conn) over one connection until stopped; keeps every
    psycopg error that reaches it."""

    def __init__(self, dsn, step, index=0):
        self.dsn = dsn
        self.step = step
        self.index = index
        self.stopping = threading.Event()
        self.calls = 0
        self.failures = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=300)
        assert not self.thread.is_alive(), "a connection is stuck"

    def _run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopping.is_set():
                self.step(self, conn)


def read_reports(reader, conn):
    for query in REPORTS:
        try:
            conn.execute(query).fetchall()
        except psycopg.Error as error:  # kept and asserted on by the test
            reader.failures.append(error)
        reader.calls += 1


class Race:
    """Round after round, RACERS connections send one batch at the same moment:
    new users, sessions and event ids, and an invalid event. A failed call is sent
    again until it goes through, as a client retries."""

    def __init__(self):
        self.barrier = threading.Barrier(RACERS, timeout=60)
        self.rounds = [0] * RACERS

    @staticmethod
    def batch(number):
        return [event(f"race-{number}-{i}", f"race{number}-{i}@example.com",
                      f"race-s-{number}-{i}", "2026-11-20T10:00:00Z", 1.5)
                for i in range(RACE_EVENTS)] + \
            [event(f"race-bad-{number}", "racer@example.com", "race-bad",
                   "2026-11-20T10:00:00", 1)]

    def step(self, racer, conn):
        number = self.rounds[racer.index]
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return
        batch = Jsonb(self.batch(number))
        while True:
            try:
                conn.execute("SELECT user_metrics.ingest_metrics(%s)", (batch,))
                break
            except psycopg.Error as error:  # kept and asserted on by the test
                racer.failures.append(error)
                if racer.stopping.is_set() or len(racer.failures) > 50:
                    raise
        racer.calls += 1
        self.rounds[racer.index] = number + 1

    def stop(self, racers):
        for racer in racers:
            racer.stopping.set()
        self.barrier.abort()
        for racer in racers:
            racer.stop()


def is_the_retryable_duplicate(error):
    """23505 on a key ON CONFLICT settles (or a copy of it), with the HINT to call again."""
    name = error.diag.constraint_name or ""
    return (error.sqlstate == "23505"
            and any(name == key or name.startswith(f"{key}_cc") for key in UPSERT_KEYS)
            and RETRY_HINT in (error.diag.message_hint or ""))


@pytest.mark.parametrize("kind", ["plain", "concurrently"])
def test_reindex_under_load(dsn, kind):
    name = f"user_metrics_reindex_{kind}"
    url = fresh_database(dsn, name)
    try:
        load = ContinuousLoad([url], CONNECTIONS).start()
        reader = Looping(url, read_reports).start()
        race = Race()
        racers = [Looping(url, race.step, index).start() for index in range(RACERS)]
        reindexed = []
        with psycopg.connect(url, autocommit=True) as admin:
            time.sleep(1)
            for _ in range(ROUNDS[kind]):
                for statement in STATEMENTS[kind]:
                    started = time.monotonic()
                    admin.execute(statement)
                    reindexed.append((statement, started, time.monotonic()))
            time.sleep(0.5)
            load.stop()
            reader.stop()
            race.stop(racers)

            overlapping = [load.calls_between(start, end) for _, start, end in reindexed]
            failed = [error for _, error in load.failures()] + \
                [error for racer in racers for error in racer.failures]
            print(f"\nREINDEX ({kind}) under load: {len(reindexed)} statements in "
                  f"{reindexed[-1][2] - reindexed[0][1]:.1f} s; {len(load.calls)} calls of the "
                  f"load, {sum(map(len, overlapping))} of them while a REINDEX ran; "
                  f"{min(race.rounds)} rounds of {RACERS} racing calls; {reader.calls} report "
                  f"calls; failed calls: {len(failed)} "
                  f"({sorted({e.diag.constraint_name or e.sqlstate for e in failed})})")
            assert reader.failures == []
            assert sum(1 for calls in overlapping if calls) >= len(reindexed) // 2, \
                "calls ran while the REINDEX statements did"
            assert min(race.rounds) >= 5, "the racers went on throughout"
            if kind == "plain":
                assert failed == []
            else:
                assert all(is_the_retryable_duplicate(e) for e in failed), \
                    [(e.sqlstate, e.diag.constraint_name, e.diag.message_hint) for e in failed]

            assert_exact(admin, load, race, strict=kind == "plain")
            # Every index is valid: no REINDEX CONCURRENTLY left a copy behind.
            assert admin.execute(
                "SELECT count(*) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
                "WHERE c.relnamespace = 'user_metrics'::regnamespace "
                "AND NOT (i.indisvalid AND i.indisready AND i.indislive)").fetchone()[0] == 0
    finally:
        drop_database(dsn, name)


def assert_exact(conn, load, race, strict):
    """What the database holds is exactly what was sent: the racers' batches once
    each, and their invalid events once each with every arrival counted; with
    strict, the load's every event and session too (its calls are not retried
    but by the second send of each batch, so where a failure was allowed its
    totals are not checked)."""
    # The racers are at most a round apart: the rounds before the slowest one's
    # next were sent by every racer.
    complete = min(race.rounds)
    raced = conn.execute(
        "SELECT count(*), count(DISTINCT user_key) FROM user_metrics.events "
        "WHERE event_id LIKE 'race-%'").fetchone()
    assert raced[0] == raced[1] and raced[0] >= complete * RACE_EVENTS
    arrivals = dict(conn.execute(
        "SELECT event_id, times_received FROM user_metrics.rejected_events "
        "WHERE event_id LIKE 'race-bad-%'").fetchall())
    assert all(arrivals[f"race-bad-{n}"] == RACERS for n in range(complete)), arrivals
    events = load.sent[next(iter(load.sent))]
    stored = stored_sessions(conn)
    if strict:
        # Every batch sent twice: each event accepted once, and a duplicate once.
        assert load.totals == {"accepted": len(events), "duplicates": len(events),
                               "rejected": 0}
        assert {k: v for k, v in stored.items() if not k[1].startswith("race-")} \
            == expected_sessions(events)
    health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
    assert health["events"] == conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]
    assert health["sessions"] == len(stored)
