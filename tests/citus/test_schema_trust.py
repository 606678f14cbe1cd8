"""On a Citus coordinator as on a single node: a schema user_metrics made before
CREATE EXTENSION by a role that may create schemas in the database is refused
(42501, naming the schema and its owner), on the coordinator and on the workers
Citus passes the statement to; nothing is installed anywhere."""
import psycopg
import pytest

from citus import NODES, connect, drop_citus_database, fresh_citus_database, node_dsn

DATABASE, CREATOR = "um_citus_schema_trust", "um_citus_creator"


def test_create_extension_on_the_coordinator_refuses_a_schema_made_by_another_role():
    url = fresh_citus_database(DATABASE)
    try:
        with connect(url) as dba:
            dba.execute(f"DROP ROLE IF EXISTS {CREATOR}")
            dba.execute(f"CREATE ROLE {CREATOR} LOGIN")
            dba.execute(f"GRANT CREATE ON DATABASE {DATABASE} TO {CREATOR}")
        with connect(psycopg.conninfo.make_conninfo(url, user=CREATOR)) as conn:
            conn.execute("CREATE SCHEMA user_metrics")
        with connect(url) as dba:
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                dba.execute("CREATE EXTENSION user_metrics")
            assert refused.value.diag.message_primary.startswith(
                f'user_metrics will not install into schema "user_metrics", owned by role "{CREATOR}": ')
        for node in NODES:
            with connect(node_dsn(node, DATABASE)) as conn:
                assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'user_metrics'"
                                    ).fetchone()[0] == 0, node
        with connect(url) as dba:
            dba.execute("DROP SCHEMA user_metrics CASCADE")
            dba.execute("CREATE EXTENSION user_metrics")
            assert dba.execute("SELECT user_metrics.health()->>'status'").fetchone()[0] == "ok"
    finally:
        drop_citus_database(DATABASE)
        with connect(node_dsn(NODES[0], "postgres")) as dba:
            dba.execute(f"DROP ROLE IF EXISTS {CREATOR}")
