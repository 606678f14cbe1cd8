"""The extension needs a UTF8 database: CREATE EXTENSION refuses any other
encoding at once, naming it, instead of failing later at the first name that is
not ASCII."""
import psycopg
import pytest

from clusters import drop_database


def database(dsn, name, encoding):
    with psycopg.connect(dsn, dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} ENCODING '{encoding}' "
                     "LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    return psycopg.conninfo.make_conninfo(dsn, dbname=name)


@pytest.mark.parametrize("encoding", ["LATIN1", "SQL_ASCII"])
def test_create_extension_refuses_a_database_that_is_not_utf8(dsn, encoding):
    name = f"user_metrics_{encoding.lower()}"
    url = database(dsn, name, encoding)
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.FeatureNotSupported) as raised:
            conn.execute("CREATE EXTENSION user_metrics")
        diag = raised.value.diag
        assert diag.message_primary == (
            f'user_metrics needs a UTF8 database, but database "{name}" uses {encoding}')
        assert "ENCODING 'UTF8'" in diag.message_hint
        # Nothing of it is left behind.
        assert conn.execute("SELECT count(*) FROM pg_extension "
                            "WHERE extname = 'user_metrics'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_namespace "
                            "WHERE nspname = 'user_metrics'").fetchone()[0] == 0
    drop_database(dsn, name)


def test_create_extension_works_in_a_utf8_database_made_the_same_way(dsn):
    url = database(dsn, "user_metrics_utf8", "UTF8")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION user_metrics")
        summary = conn.execute("""SELECT user_metrics.ingest_metrics('{"user": {"email": "zoë@example.com", "name": "Zoë"},
            "session": {"id": "s-ü", "started_at": "2026-11-23T09:00:00Z"},
            "metrics": {"talked_time": 1}}')""").fetchone()[0]
        assert summary["accepted"] == 1
        assert conn.execute("SELECT name FROM user_metrics.users").fetchone()[0] == "Zoë"
    drop_database(dsn, "user_metrics_utf8")
