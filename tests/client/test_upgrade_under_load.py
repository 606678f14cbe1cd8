"""An upgrade without downtime, as a DBA runs it on a server whose databases use
the previous release: 8 connections ingest without pause (every batch sent
twice) while the new version's package is installed over the previous one's and
the two ALTER EXTENSION user_metrics UPDATE of README, "Upgrading" run (the
gates, then the update); they go on for a while on the new version. No call may fail, the totals must be exact, and the upgraded catalog
must be that of a fresh install. scripts/test.sh builds both packages
(USER_METRICS_TEST_PREVIOUS_DEB, USER_METRICS_TEST_DEB); this test installs the
previous one first and leaves the current one installed."""
import time
from collections import defaultdict

import psycopg
import pytest

from clusters import drop_database, fresh_database
from continuous_load import ContinuousLoad, expected_sessions, stored_sessions
from packages import (deb_version, extension_version, install_package, libraries, package_files,
                      release_library)
from test_upgrade import CURRENT, catalog

pytestmark = pytest.mark.packaging

CONNECTIONS = 8
# Seconds of ingestion on the previous release, after its files are replaced, and
# after the update.
BEFORE, BETWEEN, AFTER = 3, 2, 4


def test_update_from_the_previous_release_under_load(dsn):
    previous_deb, current_deb = package_files()
    previous = deb_version(previous_deb)
    assert deb_version(current_deb) == CURRENT and previous != CURRENT
    try:
        install_package(previous_deb)
        url = fresh_database(dsn, "user_metrics_under_load", with_extension=False)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("CREATE EXTENSION user_metrics")
            assert extension_version(admin) == previous
            assert libraries(admin) == {release_library(previous)}

            load = ContinuousLoad([url], CONNECTIONS).start()
            time.sleep(BEFORE)
            installing = time.monotonic()
            install_package(current_deb)
            installed = time.monotonic()
            time.sleep(BETWEEN)
            # The two steps of README, "Upgrading": the gates, then the update.
            gating = time.monotonic()
            admin.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{previous}-gated'")
            gated = time.monotonic()
            time.sleep(BETWEEN)
            updating = time.monotonic()
            admin.execute("ALTER EXTENSION user_metrics UPDATE")
            updated = time.monotonic()
            time.sleep(AFTER)
            load.stop()

            during_install = load.calls_between(installing, installed)
            during_gates = load.calls_between(gating, gated)
            during_update = load.calls_between(updating, updated)
            after_update = [c for c in load.calls if c[1] >= updated]
            print(f"\nupgrade under load: {len(load.calls)} calls over {CONNECTIONS} connections; "
                  f"{len(during_install)} during the package's installation ({installed - installing:.2f} s), "
                  f"{len(during_gates)} during the update to {previous}-gated ({gated - gating:.2f} s), "
                  f"{len(during_update)} during the update to {CURRENT} ({updated - updating:.2f} s), "
                  f"{len(after_update)} after it; failed calls: {len(load.failures())}")
            assert load.failures() == []
            assert during_install and during_update and after_update, "ingestion went on throughout"

            assert extension_version(admin) == CURRENT
            assert libraries(admin) == {f"user_metrics-{CURRENT}"}
            events = load.sent[url]
            assert len({e["event_id"] for e in events}) == len(events)
            # Every batch sent twice: each event accepted once, and a duplicate once.
            assert load.totals == {"accepted": len(events), "duplicates": len(events), "rejected": 0}
            assert admin.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == len(events)
            assert stored_sessions(admin) == expected_sessions(events)
            per_user = defaultdict(float)
            for e in events:
                per_user[e["user"]["email"].lower()] += e["metrics"]["talked_time"]
            report = {email: float(talked) for email, _, talked, _ in admin.execute(
                "SELECT * FROM user_metrics.aggregate_user_metrics()")}
            assert report == dict(per_user)
            upgraded_catalog = catalog(admin)

        fresh = fresh_database(dsn, "user_metrics_under_load_fresh", with_extension=True)
        with psycopg.connect(fresh, autocommit=True) as conn:
            fresh_catalog = catalog(conn)
        assert upgraded_catalog == fresh_catalog, "\n".join(
            [f"- {line}" for line in upgraded_catalog if line not in fresh_catalog]
            + [f"+ {line}" for line in fresh_catalog if line not in upgraded_catalog])
    finally:
        install_package(current_deb)
        drop_database(dsn, "user_metrics_under_load")
        drop_database(dsn, "user_metrics_under_load_fresh")
