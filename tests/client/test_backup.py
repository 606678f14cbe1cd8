"""Backups: pg_dump (custom and plain format) and pg_dumpall keep every row of the
extension's tables, the positions of their sequences and the quarantine, and
ingestion goes on after a restore: new events are stored, re-sent ones are
duplicates. The tables compared are every table of the schema, found in the
catalog, so tables added later are covered too."""
import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import (contents, drop_database, extra_port, fresh_cluster, fresh_database,
                      main_cluster, run_tool, schema_sequences, schema_tables)
from events import event

SOURCE = "user_metrics_backup"

STORED = [
    event("b1", "ana@example.com", "bs1", "2026-11-20T09:00:00Z", 10.5, user__name="Ana"),
    event("b2", "ana@example.com", "bs1", "2026-11-20T08:00:00Z", 4,
          metrics__voice_sentiment=0.5, metrics__microphone_used=True),
    event("b3", "bob@example.com", "bs2", "2026-11-21T10:00:00Z", 7,
          session__device={"id": "d1", "type": "phone"}),
    event("b4", "cy@example.com", "bs3", "2026-11-22T10:00:00Z", 1),
]
REFUSED = [
    event("bad-time", "bob@example.com", "bs2", "2026-11-21T10:00:00", 7),
    event("bad-talk", "eve@example.com", "bs9", "2026-11-23T10:00:00Z", -1),
]
# Stored in a transaction that rolls back: its session and event ids are used up,
# which leaves the sequences ahead of the largest stored id.
ROLLED_BACK = [event("gone", "dan@example.com", "bs-gone", "2026-11-23T10:00:00Z", 2)]
LATER = [
    event("b5", "ana@example.com", "bs1", "2026-11-20T10:00:00Z", 1),
    event("b6", "fay@example.com", "bs10", "2026-11-24T10:00:00Z", 3, user__name="Fay"),
    event("bad-later", "fay@example.com", "bs10", "2026-11-24T10:00:00", 3),
]


@pytest.fixture(scope="module")
def source(dsn):
    url = fresh_database(dsn, SOURCE)
    with psycopg.connect(url, autocommit=True) as conn:
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb(STORED + REFUSED),)).fetchone()[0]
        assert (summary["accepted"], summary["rejected"]) == (len(STORED), len(REFUSED))
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(ROLLED_BACK),))
        # An erasure, so that its audit table holds a row too.
        conn.execute("SELECT user_metrics.forget_user('erased@example.com')")
        # One quarantined event discarded: the quarantine's sequence is ahead too.
        conn.execute("SELECT user_metrics.discard_rejected(ARRAY[(SELECT id "
                     "FROM user_metrics.rejected_events WHERE event_id = 'bad-time')])")
        snapshot = contents(conn)
    assert len(snapshot["tables"]) >= 4 and all(snapshot["tables"].values()), \
        "every table of the schema holds rows before the backup"
    yield url, snapshot
    drop_database(dsn, SOURCE)


def test_every_table_and_sequence_of_the_schema_is_marked_for_pg_dump(source):
    url, _ = source
    with psycopg.connect(url) as conn:
        marked = {row[0] for row in conn.execute(
            "SELECT unnest(extconfig)::regclass::text FROM pg_extension "
            "WHERE extname = 'user_metrics'")}
        assert set(schema_tables(conn)) <= marked
        assert set(schema_sequences(conn)) <= marked
        assert schema_sequences(conn), "the identity sequences are found"


def assert_ingestion_goes_on(url):
    with psycopg.connect(url, autocommit=True) as conn:
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb(LATER),)).fetchone()[0]
        assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (2, 0, 1)
        again = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                             (Jsonb(STORED),)).fetchone()[0]
        assert (again["accepted"], again["duplicates"]) == (0, len(STORED))
        assert conn.execute("SELECT talked_time, event_count FROM "
                            "user_metrics.get_session_details('bs1')").fetchone() == (15.5, 3)
        quarantined = [row[0] for row in conn.execute(
            "SELECT event_id FROM user_metrics.list_rejected_events() ORDER BY id")]
        assert quarantined == ["bad-talk", "bad-later"]


def test_pg_dump_custom_format_and_pg_restore(dsn, source, tmp_path):
    url, snapshot = source
    dump = tmp_path / "backup.dump"
    run_tool(url, "pg_dump", "--format=custom", f"--file={dump}", SOURCE)
    restored = fresh_database(dsn, "user_metrics_restored_custom", with_extension=False)
    run_tool(dsn, "pg_restore", "--exit-on-error", "--dbname=user_metrics_restored_custom", dump)
    with psycopg.connect(restored) as conn:
        assert contents(conn) == snapshot
    assert_ingestion_goes_on(restored)

    # Restored again over the data: --clean drops the extension first, which is
    # refused while its tables hold rows, unless the setting says so.
    refused = run_tool(dsn, "pg_restore", "--clean", "--exit-on-error",
                       "--dbname=user_metrics_restored_custom", dump, check=False)
    assert refused.returncode != 0
    assert "cannot drop extension user_metrics because its tables hold data" in refused.stderr
    run_tool(dsn, "pg_restore", "--clean", "--exit-on-error",
             "--dbname=user_metrics_restored_custom", dump,
             pgoptions="-c user_metrics.allow_drop_with_data=on")
    with psycopg.connect(restored) as conn:
        assert contents(conn) == snapshot
    drop_database(dsn, "user_metrics_restored_custom")


def test_pg_dump_plain_format_and_psql(dsn, source, tmp_path):
    url, snapshot = source
    dump = tmp_path / "backup.sql"
    run_tool(url, "pg_dump", f"--file={dump}", SOURCE)
    restored = fresh_database(dsn, "user_metrics_restored_plain", with_extension=False)
    run_tool(dsn, "psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
             "--dbname=user_metrics_restored_plain", f"--file={dump}")
    with psycopg.connect(restored) as conn:
        assert contents(conn) == snapshot
    assert_ingestion_goes_on(restored)
    drop_database(dsn, "user_metrics_restored_plain")


def test_pg_dumpall_restored_into_a_fresh_cluster(dsn, source, tmp_path):
    url, snapshot = source
    dump = tmp_path / "cluster.sql"
    run_tool(dsn, "pg_dumpall", f"--file={dump}")
    name, _ = main_cluster()
    with fresh_cluster(f"{name}-restore", extra_port(0)) as other:
        restore = run_tool(other, "psql", "--no-psqlrc", "--quiet", "--dbname=postgres",
                           f"--file={dump}")
        # The only error a dump of the whole cluster gives: its own superuser exists.
        errors = [line for line in restore.stderr.splitlines() if "ERROR" in line]
        assert all('role "postgres" already exists' in line for line in errors), restore.stderr
        restored = psycopg.conninfo.make_conninfo(other, dbname=SOURCE)
        with psycopg.connect(restored) as conn:
            assert contents(conn) == snapshot
        assert_ingestion_goes_on(restored)
