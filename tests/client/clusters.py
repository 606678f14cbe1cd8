"""More throwaway clusters beside the test cluster (made by scripts/cluster.sh:
a fresh one, or a hot standby of the test cluster), PostgreSQL's command-line
tools, and what the tests of backups, standbys and replication compare."""
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SH = ROOT / "scripts" / "cluster.sh"
RUN_DIR = Path(os.environ.get("USER_METRICS_RUN_DIR", "/var/tmp/user_metrics"))


def pg_bin(name, pg_config=None):
    """A program of the PostgreSQL under test (PG_CONFIG, as scripts/common.sh sets
    it), or of the one of pg_config: pg_dump refuses a server of a newer major version."""
    pg_config = pg_config or os.environ.get("PG_CONFIG", "pg_config")
    bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                            check=True).stdout.strip()
    return f"{bindir}/{name}"


def main_cluster():
    """(name, port) of the test cluster that scripts/test.sh started."""
    return os.environ["USER_METRICS_TEST_CLUSTER"], int(os.environ["USER_METRICS_TEST_PORT"])


def extra_port(offset):
    """A port for another cluster; each lives in a socket directory of its own."""
    return main_cluster()[1] + 10 + offset


def cluster_dsn(name, port, dbname="postgres"):
    return f"host={RUN_DIR / name} port={port} user=postgres dbname={dbname}"


def tool_env(dsn):
    """PGHOST, PGPORT and PGUSER for command-line tools, from a DSN."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    return {**os.environ, "PGHOST": params["host"], "PGPORT": str(params["port"]),
            "PGUSER": params.get("user", "postgres")}


def run_tool(dsn, *args, pgoptions=None, check=True, pg_config=None):
    """Runs a PostgreSQL client program (of the PostgreSQL under test, or of the one
    of pg_config) against the server of dsn; unless check is false, fails on a
    non-zero exit. pgoptions: settings for its sessions (PGOPTIONS)."""
    env = tool_env(dsn)
    if pgoptions:
        env["PGOPTIONS"] = pgoptions
    run = subprocess.run([pg_bin(args[0], pg_config), *map(str, args[1:])], env=env,
                         capture_output=True, text=True)
    if check:
        assert run.returncode == 0, f"{args[0]} failed:\n{run.stdout}\n{run.stderr}"
    return run


def cluster_env(pg_config=None):
    """The environment of scripts/cluster.sh: the PostgreSQL under test, or the
    one of pg_config (whose major version the script reads from it)."""
    if pg_config is None:
        return None
    env = {k: v for k, v in os.environ.items() if k != "PG_MAJOR"}
    return {**env, "PG_CONFIG": str(pg_config)}


@contextmanager
def fresh_cluster(name, port, pg_config=None):
    """A new, empty cluster, removed afterwards: of the PostgreSQL under test, or of
    the one of pg_config. Yields the DSN of its postgres database."""
    env = cluster_env(pg_config)
    subprocess.run([CLUSTER_SH, "remove", name], check=True, env=env)
    subprocess.run([CLUSTER_SH, "start", name, str(port)], check=True, env=env)
    try:
        yield cluster_dsn(name, port)
    finally:
        subprocess.run([CLUSTER_SH, "remove", name], check=True, env=env)


@contextmanager
def standby_of_test_cluster(name, port):
    """A hot standby of the test cluster (pg_basebackup -R), removed afterwards.
    Yields the DSN of its postgres database."""
    primary, primary_port = main_cluster()
    subprocess.run([CLUSTER_SH, "remove", name], check=True)
    subprocess.run([CLUSTER_SH, "standby", name, str(port), primary, str(primary_port)],
                   check=True)
    try:
        yield cluster_dsn(name, port)
    finally:
        subprocess.run([CLUSTER_SH, "remove", name], check=True)


def fresh_database(dsn, name, with_extension=True, role_prefix=None):
    """A new database on the server of dsn (dropped first if it exists), with the
    extension or without; role_prefix: its user_metrics.role_prefix setting."""
    with psycopg.connect(dsn, dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
        if role_prefix is not None:
            conn.execute(f"ALTER DATABASE {name} SET user_metrics.role_prefix = '{role_prefix}'")
    url = psycopg.conninfo.make_conninfo(dsn, dbname=name)
    if with_extension:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
    return url


def empty_tables(conn):
    """Empties every table of the extension, its counters included."""
    conn.execute("TRUNCATE user_metrics.events, user_metrics.sessions, "
                 "user_metrics.users, user_metrics.rejected_events, user_metrics.counters, "
                 "user_metrics.forgotten_users, user_metrics.ingest_counters")


def drop_database(dsn, name):
    with psycopg.connect(dsn, dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def schema_tables(conn):
    """Every table of schema user_metrics, from the catalog."""
    return [row[0] for row in conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class AS c "
        "WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'r' "
        "ORDER BY 1")]


def schema_sequences(conn):
    """Every sequence of schema user_metrics, from the catalog."""
    return [row[0] for row in conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class AS c "
        "WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'S' "
        "ORDER BY 1")]


def contents(conn):
    """Every row of every table of the schema and every sequence's position,
    comparable between databases and clusters."""
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET extra_float_digits = 3")
    tables = {table: [row[0] for row in conn.execute(
        f"SELECT t::text FROM {table} AS t ORDER BY 1")] for table in schema_tables(conn)}
    sequences = {seq: conn.execute(f"SELECT last_value, is_called FROM {seq}").fetchone()
                 for seq in schema_sequences(conn)}
    return {"tables": tables, "sequences": sequences}
