"""ingest_stats over real connections: sixteen writers at once, some of whose
calls are rolled back, and the day's figures are exactly those of the calls that
committed; readers may read the view, writers may not."""
import threading

import psycopg
from psycopg.types.json import Jsonb

from events import event

WRITERS, CALLS = 16, 25


def test_sixteen_writers_are_counted_exactly(dsn, db):
    failures, committed = [], []
    lock = threading.Lock()

    def writer(w):
        try:
            with psycopg.connect(dsn) as conn:
                for c in range(CALLS):
                    batch = [event(f"w{w}-c{c}-{k}", f"user{w}@example.com", f"s{w}-{c}",
                                   "2026-11-23T09:00:00Z", 1) for k in range(3)]
                    batch.append({"event_id": f"bad-{w}-{c}"})
                    if c % 5 == 0:
                        batch.append(batch[0])  # a repeat within the call
                    summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                                           (Jsonb(batch),)).fetchone()[0]
                    if c % 4 == 3:
                        conn.rollback()
                    else:
                        conn.commit()
                        with lock:
                            committed.append(summary)
        except Exception as error:  # collected and asserted on below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []

    stats = db.execute("SELECT calls, accepted, duplicates, rejected, rejected_by_code "
                       "FROM user_metrics.ingest_stats").fetchall()
    assert len(stats) == 1, "one UTC day"
    expected = (len(committed), sum(s["accepted"] for s in committed),
                sum(s["duplicates"] for s in committed), sum(s["rejected"] for s in committed),
                {"missing_field": sum(s["rejected"] for s in committed)})
    assert stats[0] == expected
    assert expected[0] < WRITERS * CALLS, "some calls were rolled back"
    # One row per backend and day: no row that every writer updates.
    rows = db.execute("SELECT count(*) FROM user_metrics.ingest_counters").fetchone()[0]
    assert WRITERS <= rows <= WRITERS + 1


def test_readers_read_the_view_and_writers_do_not(dsn, db):
    with psycopg.connect(dsn, autocommit=True) as conn:
        for role, group in (("um_stats_reader", "user_metrics_reader"),
                            ("um_stats_writer", "user_metrics_writer")):
            conn.execute(f"DROP ROLE IF EXISTS {role}")
            conn.execute(f"CREATE ROLE {role} LOGIN IN ROLE {group}")
    as_role = lambda role: psycopg.connect(psycopg.conninfo.make_conninfo(dsn, user=role), autocommit=True)  # noqa: E731
    with as_role("um_stats_reader") as conn:
        conn.execute("SELECT * FROM user_metrics.ingest_stats").fetchall()
        try:
            conn.execute("SELECT * FROM user_metrics.ingest_counters")
            raise AssertionError("a reader read the table under the view")
        except psycopg.errors.InsufficientPrivilege:
            pass
    with as_role("um_stats_writer") as conn:
        try:
            conn.execute("SELECT * FROM user_metrics.ingest_stats")
            raise AssertionError("a writer read the statistics")
        except psycopg.errors.InsufficientPrivilege:
            pass
