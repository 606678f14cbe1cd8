"""The update from the previous release on a source install, as README,
"Upgrading" writes it: the previous release installed from its tag (`git checkout
v<previous> && cargo pgrx install --release --pg-config ...`, in a clone of this
repository), a database created at that version and data written through its
functions, then this version installed the same way beside it (from this tree,
which is what checking out this version's tag gives), and the two steps of the
update. Every row, report and count is kept, the functions name this version's
library, the catalog is that of a fresh install, and ingestion goes on.

It installs into the PostgreSQL under test, as a DBA's source install does, and
leaves this version installed: the test command runs it once, in its PostgreSQL
18 phase (marker source_install), where this version is installed with cargo
pgrx install too. The clone and its target folders are kept in
target/upgrade-from-source/, so that only the first run builds it."""
import os
import re
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import drop_database, fresh_database
from events import a_moved_data_set
from packages import extension_version, libraries
from test_upgrade import CURRENT, RELEASES, catalog

pytestmark = pytest.mark.source_install

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PREVIOUS = max(RELEASES, key=lambda v: tuple(map(int, v.split("."))))
CLONE = ROOT / "target" / "upgrade-from-source" / "user_metrics"
# A target folder of its own, per PostgreSQL major version: a build of another
# version of the crate, or for another PostgreSQL, in the same folder can leave
# cargo pgrx install with the wrong library or install script (seen with 0.2.0's).
CLONE_TARGETS = ROOT / "target" / "upgrade-from-source"
DATABASE = "user_metrics_from_source"

STORED, REFUSED, LATER = a_moved_data_set("f")
# The tables whose rows the update leaves as they are, and the quarantine's
# columns that 0.3.0 had.
KEPT = {
    "users": "*", "sessions": "*", "events": "*", "forgotten_users": "*", "counters": "*",
    "ingest_counters": "*",
    "rejected_events": "id, received_at, batch_index, event_id, error_code, error_message, "
                       "payload, replay_count, last_replayed_at",
}
REPORTS = [
    "SELECT * FROM user_metrics.aggregate_user_metrics()",
    "SELECT * FROM user_metrics.get_session_details('s-1')",
    "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23'::date, 'Europe/Berlin')",
    "SELECT h->'users', h->'sessions', h->'events', h->'rejected', h->'last_received_at' "
    "FROM user_metrics.health() AS h",
]


def pg_config():
    return os.environ.get("PG_CONFIG", "pg_config")


def clone_target():
    version = subprocess.run([pg_config(), "--version"], capture_output=True, text=True,
                             check=True).stdout
    major = re.search(r"PostgreSQL (\d+)", version).group(1)
    return CLONE_TARGETS / f"target-pg{major}"


def cargo_pgrx_install(tree, target_dir=None):
    """README's `cargo pgrx install --release --pg-config ...` in a source tree (with
    --sudo where the PostgreSQL's folders are not ours, as README says)."""
    command = ["cargo", "pgrx", "install", "--release", "--pg-config", pg_config()]
    if os.geteuid() != 0:
        command.append("--sudo")
    env = {**os.environ, **({"CARGO_TARGET_DIR": str(target_dir)} if target_dir else {})}
    run = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    assert run.returncode == 0, f"cargo pgrx install in {tree} failed:\n{run.stderr[-4000:]}"


def git(*args, cwd=CLONE):
    run = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert run.returncode == 0, f"git {' '.join(args)} failed:\n{run.stderr}"
    return run.stdout.strip()


def release_commit(version):
    """The commit of a release, from scripts/common.sh (RELEASE_COMMITS)."""
    common = (ROOT / "scripts" / "common.sh").read_text()
    return re.search(rf'"{re.escape(version)} ([0-9a-f]{{40}})"', common).group(1)


def checkout_previous_release():
    """A clone of this repository at the previous release's tag, as a DBA's clone
    would be: kept between runs, so that the build is done once."""
    if not (CLONE / ".git").exists():
        CLONE.parent.mkdir(parents=True, exist_ok=True)
        git("clone", "--quiet", "--no-checkout", str(ROOT), str(CLONE), cwd=ROOT)
    git("fetch", "--quiet", "--tags", str(ROOT))
    tag = f"v{PREVIOUS}"
    # A clone whose history lacks the tag (a CI checkout without tags) gets it from
    # the commit the scripts build the release from.
    if not git("tag", "--list", tag):
        git("tag", tag, release_commit(PREVIOUS))
    git("checkout", "--quiet", "--force", tag)
    assert f'version = "{PREVIOUS}"' in (CLONE / "Cargo.toml").read_text()


def rows(conn):
    conn.execute("SET TimeZone = 'UTC'")
    tables = {table: conn.execute(f"SELECT t::text FROM (SELECT {columns} FROM "
                                  f"user_metrics.{table}) AS t ORDER BY 1").fetchall()
              for table, columns in KEPT.items()}
    reports = {query: conn.execute(query).fetchall() for query in REPORTS}
    return tables, reports


def test_the_readme_says_these_steps():
    for line in [f"git checkout v{PREVIOUS} && cargo pgrx install --release --pg-config",
                 f"git fetch --tags && git checkout v{CURRENT}",
                 f"ALTER EXTENSION user_metrics UPDATE TO '{PREVIOUS}-gated';",
                 "ALTER EXTENSION user_metrics UPDATE;"]:
        assert line in README, line


def test_update_of_a_source_install_from_the_previous_release(dsn):
    checkout_previous_release()
    current_installed = False
    try:
        cargo_pgrx_install(CLONE, clone_target())
        url = fresh_database(dsn, DATABASE, with_extension=False)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE EXTENSION user_metrics VERSION '{PREVIOUS}'")
            assert extension_version(conn) == PREVIOUS
            assert libraries(conn) == {f"user_metrics-{PREVIOUS}"}
            summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                                   (Jsonb(STORED + REFUSED),)).fetchone()[0]
            assert (summary["accepted"], summary["rejected"]) == (len(STORED), len(REFUSED))
            conn.execute("SELECT user_metrics.forget_user('erased@example.com')")
            before = rows(conn)

            # This version's files beside the previous one's, then the two steps.
            cargo_pgrx_install(ROOT)
            current_installed = True
            conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{PREVIOUS}-gated'")
            assert extension_version(conn) == f"{PREVIOUS}-gated"
            conn.execute("ALTER EXTENSION user_metrics UPDATE")
            assert extension_version(conn) == CURRENT
            assert libraries(conn) == {f"user_metrics-{CURRENT}"}
            assert rows(conn) == before
            upgraded_catalog = catalog(conn)

            summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                                   (Jsonb(LATER + STORED),)).fetchone()[0]
            assert (summary["accepted"], summary["duplicates"]) == (len(LATER), len(STORED))
            assert conn.execute("SELECT event_count, talked_time::text FROM "
                                "user_metrics.get_session_details('s-1')").fetchone() == (3, "151.75")

        fresh = fresh_database(dsn, f"{DATABASE}_fresh")
        with psycopg.connect(fresh) as conn:
            assert catalog(conn) == upgraded_catalog
    finally:
        if not current_installed:
            cargo_pgrx_install(ROOT)
        drop_database(dsn, DATABASE)
        drop_database(dsn, f"{DATABASE}_fresh")
