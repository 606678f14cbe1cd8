"""Scaling out: a worker added to the cluster, prepared by distribute(), takes
shards by rebalancing, the background way (citus_rebalance_start) and the
blocking one (rebalance_table_shards); the tables' owner is the NOLOGIN role
user_metrics_owner, which Citus moves shards as. Reports are the same after."""
import psycopg
import pytest

from citus import (EXTRA_NODE, NODES, connect, drop_citus_database, extra_node, fingerprint,
                   fresh_citus_database, node_dsn, notices_of)
from events import event
from load import ingest

REPORT = "SELECT * FROM user_metrics.aggregate_user_metrics()"


@pytest.mark.parametrize("rebalance", ["SELECT citus_rebalance_start(); SELECT citus_rebalance_wait()",
                                       "SELECT rebalance_table_shards()"])
def test_a_new_worker_takes_shards_and_nothing_changes_for_clients(rebalance):
    url = fresh_citus_database("um_citus_scale")
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            conn.execute("SELECT user_metrics.distribute(8)")
            ingest(conn, [event(f"x-{n}", f"user{n % 40}@x", f"s{n % 90}", "2026-11-20T10:00:00Z", n % 7)
                          for n in range(600)])
            before = fingerprint(conn, REPORT)
            assert before[0] == 40

        with extra_node("um_citus_scale") as node:
            with connect(url) as conn:
                conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (node[1],))
                # Unprepared, the new worker cannot take shards: Citus creates them
                # there as the owner role, which may not create tables in the
                # schema yet. distribute() prepares it.
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
                    conn.execute("SELECT rebalance_table_shards()")
                assert error.value.diag.message_primary == "permission denied for schema user_metrics"
                notices = notices_of(conn)
                conn.execute("SELECT user_metrics.distribute()")
                assert notices == [f"user_metrics: prepared workers 127.0.0.1:{node[1]}",
                                   "user_metrics is already distributed: 8 shards over 3 workers; "
                                   "nothing else to do"]
                for statement in rebalance.split("; "):
                    conn.execute("SET statement_timeout = '120s'")
                    conn.execute(statement)
                ports = {row[0] for row in conn.execute(
                    "SELECT DISTINCT nodeport FROM citus_shards WHERE table_name = 'user_metrics.events'::regclass")}
                assert node[1] in ports, ports
                # Co-located still: a user's rows move together.
                assert conn.execute("""
                    SELECT count(DISTINCT (s.shardminvalue, p.groupid)) = count(DISTINCT s.shardminvalue)
                    FROM pg_dist_shard AS s JOIN pg_dist_placement AS p USING (shardid)""").fetchone()[0]
                assert fingerprint(conn, REPORT) == before
                summary = ingest(conn, [event(f"y-{n}", f"user{n % 40}@x", f"s{n % 90}",
                                              "2026-11-20T10:00:00Z", 1) for n in range(200)]
                                 + [event("x-1", "user1@x", "s1", "2026-11-20T10:00:00Z", 1)])
                assert (summary["accepted"], summary["duplicates"]) == (200, 1)
                # The new worker holds no copy of the extension.
                with connect(node_dsn(EXTRA_NODE, "um_citus_scale")) as w:
                    assert w.execute("SELECT count(*) FROM pg_extension WHERE extname = 'user_metrics'"
                                     ).fetchone()[0] == 0
                # Shards leave the new node again before it goes.
                conn.execute("SELECT citus_drain_node('127.0.0.1', %s)", (node[1],))
                conn.execute("SELECT citus_remove_node('127.0.0.1', %s)", (node[1],))
                assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 800
    finally:
        drop_citus_database("um_citus_scale", NODES)
