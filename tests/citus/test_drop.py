"""DROP EXTENSION on a distributed installation: refused while the distributed
tables exist (it would leave them, and their shards, behind); DROP TABLE of them
refused while they hold rows, unless user_metrics.allow_drop_with_data is on;
once they are dropped DROP EXTENSION goes through, and no shard remains on any
node."""
import psycopg

from citus import NODES, connect, drop_citus_database, fresh_citus_database, node_dsn
from events import event
from load import ingest


def shards_left(dbname):
    """Every relation of schema user_metrics on each node, shards included."""
    left = {}
    for node in NODES:
        with connect(node_dsn(node, dbname)) as conn:
            conn.execute("SET citus.override_table_visibility = off")
            left[node[0]] = [row[0] for row in conn.execute(
                "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'user_metrics' ORDER BY 1")]
    return left


def test_drop_extension_refuses_while_tables_are_distributed_then_leaves_no_shard():
    url = fresh_citus_database("um_citus_drop")
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            conn.execute("SELECT user_metrics.distribute(4)")
            ingest(conn, [event("d-1", "ana@x", "s1", "2026-11-20T10:00:00Z", 1),
                          event("d-2", "ana@x", "s1", "2026-11-20T10:00:00", 1)])
        assert any(name.startswith("events_") for name in shards_left("um_citus_drop")["worker1"])

        # Refused, with or without the setting that lets data go: DROP EXTENSION
        # could not drop these tables.
        for setting in ("off", "on"):
            with connect(url) as conn:
                conn.execute(f"SET user_metrics.allow_drop_with_data = {setting}")
                try:
                    conn.execute("DROP EXTENSION user_metrics")
                    raise AssertionError("DROP EXTENSION went through")
                except psycopg.errors.DependentObjectsStillExist as error:
                    assert error.diag.message_primary == \
                        "cannot drop extension user_metrics while its tables are distributed with Citus"
                    assert error.diag.message_detail == (
                        "user_metrics.events, user_metrics.sessions, user_metrics.users are distributed: "
                        "DROP EXTENSION would leave them, and the shards on the workers, behind.")
                    assert ("SET user_metrics.allow_drop_with_data = on; DROP TABLE user_metrics.events, "
                            "user_metrics.sessions, user_metrics.users") in error.diag.message_hint

        with connect(url) as conn:
            # They hold rows: DROP TABLE is refused too, unless the DBA says so.
            try:
                conn.execute("DROP TABLE user_metrics.events, user_metrics.sessions, user_metrics.users")
                raise AssertionError("DROP TABLE went through")
            except psycopg.errors.ObjectNotInPrerequisiteState as error:
                assert error.diag.message_primary == \
                    "cannot drop tables of extension user_metrics that hold data"
                assert error.diag.message_detail == (
                    "user_metrics.events, user_metrics.sessions, user_metrics.users hold rows, "
                    "which DROP TABLE would delete.")
            with conn.transaction():
                conn.execute("SET LOCAL user_metrics.allow_drop_with_data = on")
                conn.execute("DROP TABLE user_metrics.events, user_metrics.sessions, user_metrics.users")
            # The quarantine holds a row: the usual guard still stands.
            try:
                conn.execute("DROP EXTENSION user_metrics")
                raise AssertionError("DROP EXTENSION went through")
            except psycopg.errors.ObjectNotInPrerequisiteState as error:
                assert error.diag.message_detail == \
                    "user_metrics.rejected_events holds rows, which DROP EXTENSION would delete."
            conn.execute("TRUNCATE user_metrics.rejected_events")
            conn.execute("DROP EXTENSION user_metrics")
            assert conn.execute("SELECT count(*) FROM pg_dist_shard").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone()[0] == 0
        assert shards_left("um_citus_drop") == {name: [] for name, _ in NODES}
    finally:
        drop_citus_database("um_citus_drop")
