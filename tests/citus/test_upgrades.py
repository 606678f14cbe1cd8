"""Upgrades of a distributed installation. After distribute() the extension lives
on the coordinator only, and its tables are Citus's: an upgrade script changes
them with one DDL statement per EXECUTE, each in its own DO block with Citus's
propagation on (the pattern at the top of sql/user_metrics--0.2.0--0.3.0.sql),
and the DBA runs ALTER EXTENSION UPDATE with that propagation off, so that Citus
does not send the statement itself to workers that have no extension."""
import subprocess
from pathlib import Path

import psycopg
import pytest

from citus import WORKERS, connect, drop_citus_database, fresh_citus_database, node_dsn
from clusters import drop_database, fresh_database, pg_bin
from events import event
from load import ingest
from test_upgrade import COUNTS, CURRENT, HEALTH_COUNTS, OLD_DATA, REPORTS_AFTER

NEXT = f"{CURRENT}-citus-test"
# A next version written the way every upgrade script must be: refuse with a clear
# message when the DBA forgot to turn Citus's propagation off; then each DDL on a
# distributed table alone in an EXECUTE, with propagation on for it, constraints
# named.
NEXT_SCRIPT = """
DO $citus$
BEGIN
    IF pg_catalog.current_setting('citus.enable_ddl_propagation', true) = 'on'
       AND pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        IF EXISTS (SELECT FROM pg_catalog.pg_class AS c
                   WHERE c.relnamespace = 'user_metrics'::pg_catalog.regnamespace
                     AND c.oid IN (SELECT p.logicalrelid FROM pg_catalog.pg_dist_partition AS p)) THEN
            RAISE EXCEPTION 'user_metrics is distributed with Citus: update it with citus.enable_ddl_propagation off'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'BEGIN; SET LOCAL citus.enable_ddl_propagation = off; ALTER EXTENSION user_metrics UPDATE; COMMIT;';
        END IF;
    END IF;
END
$citus$;

DO $ddl$
DECLARE
    propagation text := pg_catalog.current_setting('citus.enable_ddl_propagation', true);
BEGIN
    IF propagation IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'on', true);
    END IF;
    EXECUTE 'ALTER TABLE user_metrics.events ADD COLUMN channel text';
    IF propagation IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', propagation, true);
    END IF;
END
$ddl$;

DO $ddl$
DECLARE
    propagation text := pg_catalog.current_setting('citus.enable_ddl_propagation', true);
BEGIN
    IF propagation IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'on', true);
    END IF;
    EXECUTE 'ALTER TABLE user_metrics.events ADD CONSTRAINT events_channel_check '
            'CHECK (channel IN (''app'', ''web''))';
    IF propagation IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', propagation, true);
    END IF;
END
$ddl$;

DO $ddl$
DECLARE
    propagation text := pg_catalog.current_setting('citus.enable_ddl_propagation', true);
BEGIN
    IF propagation IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'on', true);
    END IF;
    EXECUTE 'CREATE INDEX events_channel_idx ON user_metrics.events (user_key, channel)';
    IF propagation IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', propagation, true);
    END IF;
END
$ddl$;
"""


def extension_dir():
    pg_config = Path(pg_bin("pg_config"))
    sharedir = subprocess.run([pg_config, "--sharedir"], capture_output=True, text=True,
                              check=True).stdout.strip()
    return Path(sharedir) / "extension"


@pytest.fixture
def next_version():
    script = extension_dir() / f"user_metrics--{CURRENT}--{NEXT}.sql"
    script.write_text(NEXT_SCRIPT)
    yield NEXT
    script.unlink()


def per_shard(conn, query):
    """The result of query on every shard of user_metrics.events (%s is the shard)."""
    return [row[0] for row in conn.execute(
        "SELECT result FROM run_command_on_shards('user_metrics.events', %s) ORDER BY shardid", (query,))]


def test_an_upgrade_following_the_pattern_reaches_every_shard(next_version, single_base):
    url = fresh_citus_database("um_citus_next")
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            conn.execute("SELECT user_metrics.distribute(4)")
            ingest(conn, [event("n-1", "ana@x", "s1", "2026-11-20T10:00:00Z", 1)])
            # Run as always, it is refused before anything changes.
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as error:
                conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{next_version}'")
            assert "citus.enable_ddl_propagation off" in error.value.diag.message_primary
            with conn.transaction():
                conn.execute("SET LOCAL citus.enable_ddl_propagation = off")
                conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{next_version}'")
            assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                                ).fetchone()[0] == next_version
            # Every shard has the column, the named CHECK and the index.
            column = "SELECT count(*) FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'channel'"
            check = ("SELECT count(*) FROM pg_constraint WHERE conrelid = '%s'::regclass "
                     "AND conname LIKE 'events_channel_check%%'")
            index = ("SELECT count(*) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
                     "WHERE i.indrelid = '%s'::regclass AND c.relname LIKE 'events_channel_idx%%'")
            for query in (column, check, index):
                assert per_shard(conn, query) == ["1"] * 4, query
            # The workers' copies of the table's definition too.
            for worker in WORKERS:
                with connect(node_dsn(worker, "um_citus_next")) as w:
                    assert w.execute("SELECT count(*) FROM pg_attribute WHERE attname = 'channel' AND "
                                     "attrelid = 'user_metrics.events'::regclass").fetchone()[0] == 1
            # The CHECK holds on the shards, and ingestion goes on.
            key = conn.execute("SELECT user_metrics.user_key('ana@x')").fetchone()[0]
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute("UPDATE user_metrics.events SET channel = 'fax' WHERE user_key = %s", (key,))
            summary = ingest(conn, [event("n-1", "ana@x", "s1", "2026-11-20T10:00:00Z", 1),
                                    event("n-2", "bob@x", "s2", "2026-11-20T10:00:00Z", 2)])
            assert (summary["accepted"], summary["duplicates"]) == (1, 1)
            assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 2
        # The same script upgrades a single-node installation.
        single = fresh_database(single_base, "um_single_next")
        with connect(single) as conn:
            conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{next_version}'")
            assert conn.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'events_channel_check'"
                                ).fetchone()[0] == 1
    finally:
        drop_citus_database("um_citus_next")
        drop_database(single_base, "um_single_next")


def test_a_020_installation_on_the_coordinator_updates_then_distributes_keeping_every_row():
    url = fresh_citus_database("um_citus_from_020")
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics VERSION '0.2.0'")
            conn.execute("SET TimeZone = 'UTC'")
            for sql, args in OLD_DATA:
                conn.execute(sql, args)
            assert conn.execute(COUNTS).fetchone() == (6, 6, 9, 1)
            # As every update on a Citus coordinator: the workers' copies of 0.2.0,
            # empty, are left as they are, and distribute() removes them.
            with conn.transaction():
                conn.execute("SET LOCAL citus.enable_ddl_propagation = off")
                conn.execute("ALTER EXTENSION user_metrics UPDATE")
            assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                                ).fetchone()[0] == CURRENT
            conn.execute("SELECT user_metrics.distribute(4)")
            assert conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone()[0] == 3
            for sql, expected in REPORTS_AFTER:
                assert conn.execute(sql).fetchall() == expected, sql
            assert conn.execute(COUNTS).fetchone() == (4, 6, 9, 1)
            assert conn.execute(HEALTH_COUNTS).fetchone() == (4, 6, 9, 1)
            summary = ingest(conn, [event("e1", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.1),
                                    event("e10", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.4)])
            assert (summary["accepted"], summary["duplicates"]) == (1, 1)
    finally:
        drop_citus_database("um_citus_from_020")


def test_a_distributed_030_installation_updates_on_the_coordinator_keeping_every_row():
    """0.3.0 distributed, with data in the shards and in the coordinator's
    quarantine (an invalid event sent three times: three rows in 0.3.0), updated on
    the coordinator with propagation off: every report the same, the quarantine
    merged, and ingestion goes on."""
    url = fresh_citus_database("um_citus_from_030")
    reports = {
        "totals": "SELECT r::text FROM user_metrics.aggregate_user_metrics() AS r",
        "weekly": "SELECT r::text FROM user_metrics.generate_weekly_report('2026-11-23', 'UTC') AS r",
        "session": "SELECT r::text FROM user_metrics.get_session_details('s1', 'ana@x') AS r",
    }
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics VERSION '0.3.0'")
            conn.execute("SELECT user_metrics.distribute(4)")
            bad = event("bad-1", "ana@x", "s1", "2026-11-20T10:00:00", 1)
            ingest(conn, [event("e1", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.5),
                          event("e2", "bob@x", "s2", "2026-11-21T10:00:00Z", 2), bad])
            ingest(conn, [bad])
            ingest(conn, [bad])
            before = {name: conn.execute(sql).fetchall() for name, sql in reports.items()}
            assert conn.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 3
            with conn.transaction():
                conn.execute("SET LOCAL citus.enable_ddl_propagation = off")
                conn.execute("ALTER EXTENSION user_metrics UPDATE")
            assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                                ).fetchone()[0] == CURRENT
            assert {name: conn.execute(sql).fetchall() for name, sql in reports.items()} == before
            assert conn.execute("SELECT times_received FROM user_metrics.rejected_events").fetchall() == [(3,)]
            assert conn.execute(COUNTS).fetchone() == conn.execute(HEALTH_COUNTS).fetchone() == (2, 2, 2, 1)
            summary = ingest(conn, [event("e1", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.5),
                                    event("e3", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.25), bad])
            assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (1, 1, 1)
            assert conn.execute("SELECT times_received FROM user_metrics.rejected_events").fetchall() == [(4,)]
            assert conn.execute("SELECT total_talked_time::text FROM user_metrics.aggregate_user_metrics('ana@x')"
                                ).fetchone()[0] == "0.75"
    finally:
        drop_citus_database("um_citus_from_030")
