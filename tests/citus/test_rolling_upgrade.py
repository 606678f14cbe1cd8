"""The upgrade from the previous release under load on a Citus cluster, the nodes
updated one after the other.

A Citus cluster may run the extension undistributed: on every node (CREATE
EXTENSION on the coordinator creates it on the workers too), with local tables
on each (0.2.0, which cannot distribute, always runs so). So "under load" is
here: 8 connections spread over the three nodes, each
node ingesting into its own tables, while the new version's package is installed
(one installation serves the three nodes on this machine; on separate machines
it is one package per node, in any order, since each version has its own
library), then the two steps of the update (README, "Upgrading") on the
coordinator, then on each worker, each with Citus's DDL propagation off (on the
coordinator Citus would otherwise send the statement to the workers); the nodes
not yet updated go on taking calls at the previous release meanwhile. Afterwards every
node holds exactly what was sent to it and the catalog of a fresh install
(here the workers' copies hold rows, which distribute() refuses; with clients on
the coordinator only, they stay empty and distribute() may then be run, as
test_upgrades.py shows; a distributed installation is updated on the coordinator
only, as test_upgrades.py shows too)."""
import time
from collections import defaultdict

from citus import NODES, connect, drop_citus_database, fresh_citus_database, node_dsn
from continuous_load import ContinuousLoad, expected_sessions, stored_sessions
from packages import (deb_version, extension_version, install_package, libraries, package_files,
                      release_library)
from test_upgrade import CURRENT, catalog

CONNECTIONS = 8
# Seconds of ingestion before the package, after it, between the nodes' updates
# and after the last one.
BEFORE, BETWEEN, AFTER = 3, 2, 4
DATABASE, FRESH = "um_citus_rolling", "um_citus_rolling_fresh"


def alter_extension(conn, target=""):
    """ALTER EXTENSION user_metrics UPDATE [TO target], as on every node of a Citus
    cluster: with Citus's DDL propagation off."""
    with conn.transaction():
        conn.execute("SET LOCAL citus.enable_ddl_propagation = off")
        conn.execute(f"ALTER EXTENSION user_metrics UPDATE {target}")


def test_update_node_by_node_from_the_previous_release_under_load():
    previous_deb, current_deb = package_files()
    previous = deb_version(previous_deb)
    assert deb_version(current_deb) == CURRENT and previous != CURRENT
    try:
        install_package(previous_deb)
        fresh_citus_database(DATABASE)
        dsns = [node_dsn(node, DATABASE) for node in NODES]
        with connect(dsns[0]) as coordinator:
            coordinator.execute("CREATE EXTENSION user_metrics")
        admins = [connect(dsn) for dsn in dsns]
        try:
            for admin in admins:
                assert extension_version(admin) == previous
                assert libraries(admin) == {release_library(previous)}

            load = ContinuousLoad(dsns, CONNECTIONS).start()
            time.sleep(BEFORE)
            installing = time.monotonic()
            install_package(current_deb)
            installed = time.monotonic()
            updates = []
            for (name, _), dsn, admin in zip(NODES, dsns, admins):
                # The two steps of README, "Upgrading": the gates, then the update.
                time.sleep(BETWEEN)
                alter_extension(admin, f"TO '{previous}-gated'")
                time.sleep(BETWEEN)
                started = time.monotonic()
                alter_extension(admin)
                updates.append((name, dsn, started, time.monotonic()))
            time.sleep(AFTER)
            load.stop()

            figures = "; ".join(f"{name} updated in {end - start:.2f} s, {len(load.calls_between(start, end, dsn))} "
                                f"of its calls running meanwhile"
                                for name, dsn, start, end in updates)
            print(f"\nCitus rolling upgrade under load: {len(load.calls)} calls over {CONNECTIONS} "
                  f"connections to {len(NODES)} nodes; {len(load.calls_between(installing, installed))} "
                  f"during the package's installation; {figures}; failed calls: {len(load.failures())}")
            assert load.failures() == []
            for name, dsn, start, end in updates:
                assert load.calls_between(start, end, dsn), f"calls went on during the update of {name}"

            assert load.totals == {"accepted": sum(len(e) for e in load.sent.values()),
                                   "duplicates": sum(len(e) for e in load.sent.values()), "rejected": 0}
            upgraded = []
            for dsn, admin in zip(dsns, admins):
                assert extension_version(admin) == CURRENT
                assert libraries(admin) == {f"user_metrics-{CURRENT}"}
                events = load.sent[dsn]
                assert events, "every node took calls"
                assert admin.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == len(events)
                assert stored_sessions(admin) == expected_sessions(events)
                per_user = defaultdict(float)
                for e in events:
                    per_user[e["user"]["email"].lower()] += e["metrics"]["talked_time"]
                assert {email: float(talked) for email, _, talked, _ in admin.execute(
                    "SELECT * FROM user_metrics.aggregate_user_metrics()")} == dict(per_user)
                upgraded.append(catalog(admin))
        finally:
            for admin in admins:
                admin.close()

        # A fresh install of the current version, made on the coordinator as always.
        fresh_citus_database(FRESH)
        with connect(node_dsn(NODES[0], FRESH)) as coordinator:
            coordinator.execute("CREATE EXTENSION user_metrics")
        for node, upgraded_catalog in zip(NODES, upgraded):
            with connect(node_dsn(node, FRESH)) as conn:
                fresh_catalog = catalog(conn)
            assert upgraded_catalog == fresh_catalog, node[0] + "\n" + "\n".join(
                [f"- {line}" for line in upgraded_catalog if line not in fresh_catalog]
                + [f"+ {line}" for line in fresh_catalog if line not in upgraded_catalog])
    finally:
        install_package(current_deb)
        drop_citus_database(DATABASE)
        drop_citus_database(FRESH)

