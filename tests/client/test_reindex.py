"""REINDEX while clients ingest, as README, "Maintenance: REINDEX" says a DBA may
run it: plain REINDEX (TABLE, INDEX, SCHEMA) and REINDEX ... CONCURRENTLY, each
statement several times over, while 8 connections ingest without pause (every
batch sent twice) and one more reads the reports. No call fails, no REINDEX
fails, and every total is exact afterwards.

Until 0.4.0 a plain REINDEX deadlocked with single calls within a few rounds: a
call read a table, REINDEX took SHARE on it and waited for an index the call had
open, and the call waited for SHARE to go before it could write the table."""
import threading
import time

import psycopg
import pytest

from clusters import drop_database, fresh_database
from continuous_load import ContinuousLoad, expected_sessions, stored_sessions

CONNECTIONS = 8
# Plain REINDEX is quick and deadlocked within a round or two; CONCURRENTLY takes
# seconds per statement, and one round keeps the calls running through all of it.
ROUNDS = {"plain": 5, "concurrently": 1}
TABLES = ["user_metrics.users", "user_metrics.sessions", "user_metrics.events"]
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


class Reader:
    """One connection calling the reports in a loop until stopped; keeps each
    failure."""

    def __init__(self, dsn):
        self.dsn = dsn
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
        assert not self.thread.is_alive(), "the reader is stuck"

    def _run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopping.is_set():
                for query in REPORTS:
                    try:
                        conn.execute(query).fetchall()
                    except psycopg.Error as error:  # kept and asserted on by the test
                        self.failures.append(error)
                    self.calls += 1


@pytest.mark.parametrize("kind", ["plain", "concurrently"])
def test_reindex_under_load_fails_no_call(dsn, kind):
    name = f"user_metrics_reindex_{kind}"
    url = fresh_database(dsn, name)
    try:
        load = ContinuousLoad([url], CONNECTIONS).start()
        reader = Reader(url).start()
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

            overlapping = [load.calls_between(start, end) for _, start, end in reindexed]
            print(f"\nREINDEX ({kind}) under load: {len(reindexed)} statements in "
                  f"{reindexed[-1][2] - reindexed[0][1]:.1f} s, {len(load.calls)} calls, "
                  f"{sum(map(len, overlapping))} of them while a REINDEX ran; "
                  f"{reader.calls} report calls; failed: {len(load.failures())} and "
                  f"{len(reader.failures)}")
            assert load.failures() == []
            assert reader.failures == []
            assert sum(1 for calls in overlapping if calls) >= len(reindexed) // 2, \
                "calls ran while the REINDEX statements did"

            events = load.sent[url]
            # Every batch sent twice: each event accepted once, and a duplicate once.
            assert load.totals == {"accepted": len(events), "duplicates": len(events),
                                   "rejected": 0}
            assert stored_sessions(admin) == expected_sessions(events)
            health = admin.execute("SELECT user_metrics.health()").fetchone()[0]
            assert health["events"] == len(events)
            assert health["sessions"] == len(expected_sessions(events))
            # Every index is valid: no REINDEX CONCURRENTLY left a copy behind.
            assert admin.execute(
                "SELECT count(*) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
                "WHERE c.relnamespace = 'user_metrics'::regnamespace "
                "AND NOT (i.indisvalid AND i.indisready AND i.indislive)").fetchone()[0] == 0
    finally:
        drop_database(dsn, name)
