"""user_metrics.distribute(): what it leaves on every node, and what it refuses."""
import psycopg
import pytest

from citus import (NODES, WORKERS, connect, drop_citus_database, fresh_citus_database, node_dsn,
                   notices_of)
from clusters import drop_database, fresh_database

TABLES = ["user_metrics.events", "user_metrics.sessions", "user_metrics.users"]
MEMBERS = """
    SELECT coalesce(array_agg(pg_describe_object(d.classid, d.objid, 0) ORDER BY 1), '{}')
    FROM pg_depend AS d
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND d.classid = 'pg_class'::regclass
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'user_metrics')
"""


def test_what_distribute_leaves_on_every_node(loaded):
    citus, _, _ = loaded
    with connect(citus) as conn:
        # The three tables, distributed by user_key, co-located, 32 shards each.
        rows = conn.execute("""
            SELECT logicalrelid::regclass::text, column_to_column_name(logicalrelid, partkey),
                   colocationid, (SELECT count(*) FROM pg_dist_shard AS s WHERE s.logicalrelid = p.logicalrelid)
            FROM pg_dist_partition AS p ORDER BY 1""").fetchall()
        assert [row[0] for row in rows] == TABLES
        assert {row[1] for row in rows} == {"user_key"}
        assert len({row[2] for row in rows}) == 1
        assert {row[3] for row in rows} == {32}
        # Out of the extension, and so out of pg_dump's configuration list; the
        # quarantine and the counters stay, local to the coordinator.
        members = conn.execute(MEMBERS).fetchone()[0]
        moved = {"table user_metrics.users", "table user_metrics.sessions", "table user_metrics.events",
                 "sequence user_metrics.sessions_id_seq", "sequence user_metrics.events_id_seq"}
        assert moved.isdisjoint(members), members
        assert {"table user_metrics.rejected_events", "table user_metrics.counters"} <= set(members)
        dumped = conn.execute("SELECT extconfig::regclass[]::text[] FROM pg_extension "
                              "WHERE extname = 'user_metrics'").fetchone()[0]
        assert {name.split(" ")[1] for name in moved}.isdisjoint(dumped), dumped
        assert {"user_metrics.rejected_events", "user_metrics.counters"} <= set(dumped)
        # Citus no longer hands the extension to workers.
        assert conn.execute("SELECT count(*) FROM pg_dist_object WHERE classid = 'pg_extension'::regclass "
                            "AND objid = (SELECT oid FROM pg_extension WHERE extname = 'user_metrics')"
                            ).fetchone()[0] == 0
        # Citus reaches the shards as the owner role: it may log in, on every node
        # (it still has no password and no other attribute).
        assert conn.execute("SELECT rolcanlogin, rolpassword IS NULL, rolsuper FROM pg_authid "
                            "WHERE rolname = 'user_metrics_owner'").fetchone() == (True, True, False)
        # distribute() itself belongs to a superuser, not to the owner role.
        assert conn.execute("SELECT r.rolsuper FROM pg_proc AS p JOIN pg_roles AS r ON r.oid = p.proowner "
                            "WHERE p.oid = 'user_metrics.distribute(integer)'::regprocedure").fetchone()[0]
    for worker in WORKERS:
        with connect(node_dsn(worker, "um_citus")) as conn:
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'user_metrics'"
                                ).fetchone()[0] == 0
            assert conn.execute(
                "SELECT rolcanlogin, has_schema_privilege(oid, 'user_metrics', 'USAGE'), "
                "has_schema_privilege(oid, 'user_metrics', 'CREATE') "
                "FROM pg_roles WHERE rolname = 'user_metrics_owner'").fetchone() == (True, True, True)
            # Shards of the three tables only, each owned by the owner role.
            conn.execute("SET citus.override_table_visibility = off")
            owners = conn.execute(
                "SELECT DISTINCT regexp_replace(relname, '_[0-9]+$', ''), relowner::regrole::text "
                "FROM pg_class WHERE relnamespace = 'user_metrics'::regnamespace AND relkind = 'r' "
                "AND relname ~ '_[0-9]+$' ORDER BY 1").fetchall()
            assert owners == [("events", "user_metrics_owner"), ("sessions", "user_metrics_owner"),
                              ("users", "user_metrics_owner")]


def test_a_second_call_says_so_and_changes_nothing(loaded):
    citus, _, _ = loaded
    with connect(citus) as conn:
        before = conn.execute("SELECT array_agg((shardid, nodeport) ORDER BY shardid)::text FROM citus_shards"
                              ).fetchone()[0]
        notices = notices_of(conn)
        conn.execute("SELECT user_metrics.distribute(8)")
        assert notices == ["user_metrics is already distributed: 32 shards over 2 workers; nothing else to do"]
        assert conn.execute("SELECT array_agg((shardid, nodeport) ORDER BY shardid)::text FROM citus_shards"
                            ).fetchone()[0] == before
        with pytest.raises(psycopg.errors.InvalidParameterValue) as error:
            conn.execute("SELECT user_metrics.distribute(0)")
        assert error.value.diag.message_primary == "shard_count must be from 1 to 64000, got 0"


def test_without_citus_it_refuses_with_a_hint(single_base):
    url = fresh_database(single_base, "um_no_citus")
    try:
        with connect(url) as conn, pytest.raises(psycopg.errors.FeatureNotSupported) as error:
            conn.execute("SELECT user_metrics.distribute()")
        assert error.value.diag.message_primary == \
            'user_metrics.distribute() needs Citus, which is not installed in database "um_no_citus"'
        assert "shared_preload_libraries" in error.value.diag.message_hint
    finally:
        drop_database(single_base, "um_no_citus")


def test_only_a_superuser_may_distribute():
    url = fresh_citus_database("um_citus_roles")
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            conn.execute("DROP ROLE IF EXISTS um_citus_dba")
            conn.execute("CREATE ROLE um_citus_dba LOGIN")
        with connect(url) as conn:
            conn.execute("GRANT USAGE ON SCHEMA user_metrics TO um_citus_dba")
        with connect(url, user="um_citus_dba") as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
            conn.execute("SELECT user_metrics.distribute()")
        assert error.value.diag.message_primary == "permission denied for function distribute"
        # Even when granted (it must not be), the function itself refuses.
        with connect(url) as conn:
            conn.execute("GRANT EXECUTE ON FUNCTION user_metrics.distribute(integer) TO um_citus_dba")
        with connect(url, user="um_citus_dba") as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
            conn.execute("SELECT user_metrics.distribute()")
        assert error.value.diag.message_primary == "permission denied to distribute user_metrics"
        with connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone()[0] == 0
    finally:
        drop_citus_database("um_citus_roles")
        with connect(node_dsn(NODES[0], "postgres")) as conn:
            conn.execute("DROP ROLE IF EXISTS um_citus_dba")


def test_it_refuses_on_a_worker_and_when_a_worker_copy_holds_rows():
    url = fresh_citus_database("um_citus_refusals")
    worker = node_dsn(WORKERS[0], "um_citus_refusals")
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
        # Citus put a copy of the extension on the worker; called there, it refuses.
        with connect(worker) as conn, \
                pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as error:
            conn.execute("SELECT user_metrics.distribute()")
        assert error.value.diag.message_primary.startswith(
            "user_metrics.distribute() must be called on the Citus coordinator, and this node is a worker")
        # Rows written on the worker itself are not the coordinator's data: refused,
        # and nothing is changed on any node.
        with connect(worker) as conn:
            conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                         ('{"event_id": "w-1", "user": {"email": "wanda@x"}, '
                          '"session": {"id": "s1", "started_at": "2026-11-20T10:00:00Z"}, '
                          '"metrics": {"talked_time": 1}}',))
        with connect(url) as conn, pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as error:
            conn.execute("SELECT user_metrics.distribute()")
        assert error.value.diag.message_primary == \
            "cannot distribute user_metrics: workers hold rows in their own copies of its tables"
        assert error.value.diag.message_detail.startswith(
            f"On 127.0.0.1:{WORKERS[0][1]} (user_metrics.events, user_metrics.sessions, user_metrics.users)")
        with connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone()[0] == 0
            assert conn.execute(MEMBERS).fetchone()[0] != []
        for node in WORKERS:
            with connect(node_dsn(node, "um_citus_refusals")) as conn:
                assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'user_metrics'"
                                    ).fetchone()[0] == 1
        # Emptied there, it goes through.
        with connect(worker) as conn:
            conn.execute("TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users")
        with connect(url) as conn:
            notices = notices_of(conn)
            conn.execute("SELECT user_metrics.distribute(4)")
            assert notices[-1] == ("user_metrics: users, sessions and events are distributed by "
                                   "user_key: 4 shards over 2 workers")
    finally:
        drop_citus_database("um_citus_refusals")


def test_it_refuses_in_the_transaction_that_created_the_extension():
    """Run in the transaction of CREATE EXTENSION, distribute() would ask the workers
    over connections of their own, which wait for that transaction (a distributed
    deadlock), after granting the owner role rights on their schema, which outlast
    the rollback and stop a later CREATE EXTENSION there. It refuses first, also
    when the extension was created under a savepoint (as psql's ON_ERROR_ROLLBACK
    does): no node keeps the extension, and no worker a right to create in the
    schema for another role than its owner (Citus leaves the schema there with its
    USAGE grants, as after any CREATE EXTENSION rolled back, which a later
    CREATE EXTENSION accepts)."""
    name = "um_citus_same_xact"
    url = fresh_citus_database(name)
    leftovers = """SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'user_metrics'),
                          (SELECT count(*) FROM pg_namespace AS n, aclexplode(n.nspacl) AS a
                           WHERE n.nspname = 'user_metrics' AND a.privilege_type = 'CREATE'
                             AND a.grantee <> n.nspowner)"""
    try:
        with connect(url) as conn, pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as error:
            # One string, one transaction: as `psql -c` sends it.
            conn.execute("CREATE EXTENSION user_metrics; SELECT user_metrics.distribute(4)")
        assert error.value.diag.message_primary == \
            "user_metrics.distribute() cannot run in the transaction that created or updated the extension"
        assert error.value.diag.message_hint.startswith("Commit CREATE EXTENSION (or ALTER EXTENSION) first")
        with connect(url) as conn, pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            with conn.transaction():
                with conn.transaction():  # a savepoint inside the transaction
                    conn.execute("CREATE EXTENSION user_metrics")
                conn.execute("SELECT user_metrics.distribute(4)")
        for node in NODES:
            with connect(node_dsn(node, name)) as conn:
                assert conn.execute(leftovers).fetchone() == (0, 0), node
        # Committed first, the same two steps go through.
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
        with connect(url) as conn:
            notices = notices_of(conn)
            conn.execute("SELECT user_metrics.distribute(4)")
            assert notices[-1] == ("user_metrics: users, sessions and events are distributed by "
                                   "user_key: 4 shards over 2 workers")
            assert conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone()[0] == 3
    finally:
        drop_citus_database(name)
