"""The Citus cluster of scripts/citus_cluster.sh as the tier sees it: its nodes,
fresh databases spread over them, and the fingerprints that compare what a
distributed and a single-node installation return."""
import hashlib
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
CITUS_CLUSTER_SH = ROOT / "scripts" / "citus_cluster.sh"
RUN_DIR = Path(os.environ.get("USER_METRICS_RUN_DIR", "/var/tmp/user_metrics"))
# The cluster's name, as scripts/citus_cluster.sh takes it: its nodes live in
# $USER_METRICS_RUN_DIR/$CITUS_CLUSTER-<node>.
CLUSTER = os.environ.get("CITUS_CLUSTER", "citus")
COORDINATOR_PORT = int(os.environ.get("USER_METRICS_CITUS_PORT", "25440"))
# (name, port) of every node scripts/citus_cluster.sh starts, the coordinator first.
NODES = [("coordinator", COORDINATOR_PORT), ("worker1", COORDINATOR_PORT + 1),
         ("worker2", COORDINATOR_PORT + 2)]
WORKERS = NODES[1:]
# A node started by a test to be added to the cluster.
EXTRA_NODE = ("worker3", COORDINATOR_PORT + 6)


def node_dsn(node, dbname):
    name, port = node
    return f"host={RUN_DIR / f'{CLUSTER}-{name}'} port={port} user=postgres dbname={dbname}"


def coordinator_dsn(dbname):
    return node_dsn(NODES[0], dbname)


def connect(dsn, **kwargs):
    return psycopg.connect(dsn, autocommit=True, **kwargs)


def fresh_citus_database(name, nodes=NODES):
    """A new database `name` (dropped first) on every node, with citus, the workers
    registered with the coordinator. Returns the coordinator's DSN."""
    for node in nodes:
        with connect(node_dsn(node, "postgres")) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        with connect(node_dsn(node, name)) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute("CREATE EXTENSION citus")
    with connect(coordinator_dsn(name)) as conn:
        conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', %s)", (COORDINATOR_PORT,))
        for _, port in nodes[1:]:
            conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (port,))
    return coordinator_dsn(name)


def drop_citus_database(name, nodes=NODES):
    for node in nodes:
        with connect(node_dsn(node, "postgres")) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def extra_node(dbname):
    """One more node (scripts/citus_cluster.sh node), with database dbname and
    citus, not registered; removed afterwards."""
    name, port = EXTRA_NODE
    subprocess.run([CITUS_CLUSTER_SH, "remove-node", name], check=True)
    subprocess.run([CITUS_CLUSTER_SH, "node", name, str(port), dbname], check=True)
    try:
        yield EXTRA_NODE
    finally:
        subprocess.run([CITUS_CLUSTER_SH, "remove-node", name], check=True)


def notices_of(conn):
    """The NOTICE messages the connection receives from now on, in a list."""
    received = []
    conn.add_notice_handler(lambda diag: received.append(diag.message_primary))
    return received


def fingerprint(conn, query, args=(), sort=False):
    """(row count, md5 of the rows as text in the order the query returns them, or
    sorted: the order of a subquery over distributed tables is not kept)."""
    order = ' ORDER BY t::text COLLATE "C"' if sort else ""
    rows = [row[0] for row in conn.execute(f"SELECT t::text FROM ({query}) AS t{order}", args)]
    return len(rows), hashlib.md5("\n".join(rows).encode()).hexdigest()


def shard_placements(conn, table):
    """(shard id, node port) of every shard placement of a distributed table."""
    return conn.execute("SELECT shardid, nodeport FROM citus_shards "
                        "WHERE table_name = %s::regclass ORDER BY shardid", (table,)).fetchall()
