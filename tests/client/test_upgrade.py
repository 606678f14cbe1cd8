"""ALTER EXTENSION user_metrics UPDATE from every released version: the data and
the reports survive, and the upgraded schema is exactly what a fresh CREATE
EXTENSION of the current version makes. scripts/test.sh installs the frozen
release scripts (sql/releases/) next to the current one for this test."""
import re
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from events import event

ROOT = Path(__file__).resolve().parents[2]
CATALOG = (ROOT / "tests" / "upgrade" / "catalog.sql").read_text()
RELEASES = sorted(re.match(r"user_metrics--(.+)\.sql", p.name).group(1)
                  for p in (ROOT / "sql" / "releases").glob("user_metrics--*.sql"))
CURRENT = re.search(r'^version = "(.+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
REPORTS = [
    "SELECT * FROM user_metrics.aggregate_user_metrics()",
    "SELECT * FROM user_metrics.get_session_details('s1')",
    "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')",
    "SELECT event_id, talked_time FROM user_metrics.events ORDER BY event_id",
    "SELECT batch_index, error_code, payload FROM user_metrics.rejected_events ORDER BY id",
]


def fresh_database(dsn, name):
    with psycopg.connect(dsn, dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return psycopg.conninfo.make_conninfo(dsn, dbname=name)


def catalog(conn):
    return [row[0] for row in conn.execute(CATALOG)]


def test_every_release_has_an_update_path_to_the_current_version(db):
    assert RELEASES, "sql/releases/ holds the released install scripts"
    assert CURRENT not in RELEASES, "the current version is not released yet"
    paths = dict(db.execute("SELECT source, path FROM pg_extension_update_paths('user_metrics') "
                            "WHERE target = %s", (CURRENT,)).fetchall())
    for old in RELEASES:
        assert paths.get(old), f"no ALTER EXTENSION UPDATE path from {old} to {CURRENT}"


@pytest.mark.parametrize("old", RELEASES)
def test_update_keeps_data_and_matches_a_fresh_install(dsn, old):
    upgraded = fresh_database(dsn, "user_metrics_upgraded")
    with psycopg.connect(upgraded, autocommit=True) as conn:
        conn.execute(f"CREATE EXTENSION user_metrics VERSION '{old}'")
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([
            event("e1", "ana@x", "s1", "2026-11-20T10:00:00Z", 10, user__name="Ana"),
            event("e2", "ana@x", "s1", "2026-11-20T09:00:00Z", 5.5),
            event("e3", "bob@x", "s2", "2026-11-21T10:00:00Z", 7),
            event("bad", "bob@x", "s2", "2026-11-21T10:00:00", 7),
        ]),))
        before = [conn.execute(sql).fetchall() for sql in REPORTS]

        conn.execute("ALTER EXTENSION user_metrics UPDATE")
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                            ).fetchone()[0] == CURRENT
        after = [conn.execute(sql).fetchall() for sql in REPORTS]
        assert after == before
        # The upgraded installation works, old data included.
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(
            event("e4", "ana@x", "s1", "2026-11-20T08:00:00Z", 1)),)).fetchone()[0]
        assert summary["accepted"] == 1
        assert conn.execute("SELECT talked_time FROM user_metrics.get_session_details('s1')"
                            ).fetchone()[0] == 16.5
        upgraded_catalog = catalog(conn)

    fresh = fresh_database(dsn, "user_metrics_fresh")
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION user_metrics")
        fresh_catalog = catalog(conn)

    assert upgraded_catalog == fresh_catalog, "\n".join(
        [f"- {line}" for line in upgraded_catalog if line not in fresh_catalog]
        + [f"+ {line}" for line in fresh_catalog if line not in upgraded_catalog])
    assert len(fresh_catalog) > 40, "the catalog dump covers the extension's objects"
