"""Moving to another server with logical replication, as the README's cut-over
recipe does it: the test cluster publishes the extension's tables, a fresh
cluster subscribes, the data arrives, and at the cut-over (subscription
disabled, resync_sequences()) the subscriber takes over: new events are stored
and re-sent ones are duplicates."""
import time

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import (cluster_dsn, contents, drop_database, extra_port, fresh_cluster,
                      fresh_database, main_cluster, schema_tables)
from events import event

DATABASE = "user_metrics_cutover"
FIRST = [
    event("c1", "ana@example.com", "cs1", "2026-11-20T09:00:00Z", 10, user__name="Ana"),
    event("c2", "bob@example.com", "cs2", "2026-11-21T09:00:00Z", 5),
    event("c-bad", "bob@example.com", "cs2", "2026-11-21T09:00:00", 5),
    # Cy's own session cs1: session ids are per user.
    event("c-cy", "cy@example.com", "cs1", "2026-11-21T09:00:00Z", 5),
]
SECOND = [
    event("c3", "ana@example.com", "cs1", "2026-11-20T10:00:00Z", 2),
    event("c4", "dan@example.com", "cs4", "2026-11-22T09:00:00Z", 3),
    event("c-bad2", "dan@example.com", "cs4", "2026-11-22T09:00:00", 3),
]
AFTER = [
    event("c5", "ana@example.com", "cs1", "2026-11-20T11:00:00Z", 1),
    event("c6", "eve@example.com", "cs6", "2026-11-23T09:00:00Z", 4),
    event("c-bad3", "eve@example.com", "cs6", "2026-11-23T09:00:00", 4),
]


def wait_for(check, what, seconds=60):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def publisher(dsn):
    url = fresh_database(dsn, DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE PUBLICATION user_metrics_pub FOR TABLES IN SCHEMA user_metrics")
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(FIRST),))
        # An erasure: its audit row is replicated with the rest.
        conn.execute("SELECT user_metrics.forget_user('erased@example.com')")
    yield url
    with psycopg.connect(url, autocommit=True) as conn:
        # A slot left behind would keep WAL on the test cluster for ever.
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                     "WHERE slot_name = 'user_metrics_sub' AND NOT active")
    drop_database(dsn, DATABASE)


@pytest.fixture
def subscriber(publisher):
    name, _ = main_cluster()
    with fresh_cluster(f"{name}-subscriber", extra_port(2)) as other:
        url = fresh_database(other, DATABASE)
        yield url
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SUBSCRIPTION IF EXISTS user_metrics_sub")


def test_logical_replication_then_cut_over_with_resync_sequences(dsn, publisher, subscriber):
    name, port = main_cluster()
    source = cluster_dsn(name, port, DATABASE)
    with psycopg.connect(subscriber, autocommit=True) as sub:
        sub.execute(f"CREATE SUBSCRIPTION user_metrics_sub CONNECTION '{source}' "
                    "PUBLICATION user_metrics_pub")
        tables = schema_tables(sub)

        def synced():
            states = sub.execute("SELECT srsubstate FROM pg_subscription_rel").fetchall()
            return len(states) == len(tables) and all(s == ("r",) for s in states)
        wait_for(synced, "the initial copy of every table")

    # Changes after the initial copy stream over too. Then the publisher's
    # application stops, and the subscriber is waited for as the README says: until
    # the slot's confirmed position reaches the publisher's WAL position.
    with psycopg.connect(publisher, autocommit=True) as pub:
        pub.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(SECOND),))
        published = contents(pub)
        stopped_at = pub.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        wait_for(lambda: pub.execute(
            "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots "
            "WHERE slot_name = 'user_metrics_sub'", (stopped_at,)).fetchone()[0],
            "the subscriber to confirm every change")
    with psycopg.connect(subscriber, autocommit=True) as sub:
        assert contents(sub)["tables"] == published["tables"]

        # The cut-over: the subscriber stops applying and takes over.
        sub.execute("ALTER SUBSCRIPTION user_metrics_sub DISABLE")
        moved = sub.execute("SELECT table_name, sequence_name, max_id, previous_value, new_value "
                            "FROM user_metrics.resync_sequences() ORDER BY 1").fetchall()
        identity = sub.execute("""
            SELECT c.oid::regclass::text, pg_get_serial_sequence(c.oid::regclass::text, a.attname)
            FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid
            WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'r'
              AND a.attidentity <> '' ORDER BY 1""").fetchall()
        assert [(table, seq) for table, seq, *_ in moved] == identity, \
            "every identity sequence of the schema is resynchronized"
        for table, seq, max_id, previous, new in moved:
            assert max_id == sub.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
            # Replication wrote the ids: the subscriber's sequences never moved.
            assert previous is None
            assert new == max_id
            assert sub.execute(f"SELECT last_value, is_called FROM {seq}").fetchone() == (max_id, True)

        # Running it again changes nothing: every sequence is already past its table.
        again = sub.execute("SELECT previous_value, new_value "
                            "FROM user_metrics.resync_sequences()").fetchall()
        assert all(previous == new for previous, new in again)

        summary = sub.execute("SELECT user_metrics.ingest_metrics(%s)",
                              (Jsonb(AFTER),)).fetchone()[0]
        assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (2, 0, 1)
        resent = sub.execute("SELECT user_metrics.ingest_metrics(%s)",
                             (Jsonb(FIRST[:2] + SECOND[:2]),)).fetchone()[0]
        assert (resent["accepted"], resent["duplicates"]) == (0, 4)
        assert sub.execute("SELECT talked_time, event_count FROM "
                           "user_metrics.get_session_details('cs1', 'ana@example.com')"
                           ).fetchone() == (13, 3)
        assert sub.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 3


def test_resync_sequences_is_for_admins_only(dsn):
    url = fresh_database(dsn, "user_metrics_resync_grants")
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT prosecdef, proconfig FROM pg_proc "
                            "WHERE oid = 'user_metrics.resync_sequences()'::regprocedure"
                            ).fetchone() == (True, ["search_path=pg_catalog, pg_temp"])
        for role, group in [("um_resync_admin", "user_metrics_admin"),
                            ("um_resync_writer", "user_metrics_writer"),
                            ("um_resync_reader", "user_metrics_reader"),
                            ("um_resync_nobody", None)]:
            conn.execute(f"DROP ROLE IF EXISTS {role}")
            conn.execute(f"CREATE ROLE {role} LOGIN")
            if group:
                conn.execute(f"GRANT {group} TO {role}")
    call = "SELECT * FROM user_metrics.resync_sequences()"
    try:
        with psycopg.connect(url, user="um_resync_admin", autocommit=True) as conn:
            rows = conn.execute(call).fetchall()
            assert rows and all(row[0].startswith("user_metrics.") for row in rows)
        for role in ["um_resync_writer", "um_resync_reader", "um_resync_nobody"]:
            with psycopg.connect(url, user=role, autocommit=True) as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(call)
    finally:
        drop_database(dsn, "user_metrics_resync_grants")
        with psycopg.connect(dsn, autocommit=True) as conn:
            for role in ["um_resync_admin", "um_resync_writer", "um_resync_reader",
                         "um_resync_nobody"]:
                conn.execute(f"DROP ROLE IF EXISTS {role}")
