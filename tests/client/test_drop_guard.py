"""DROP EXTENSION user_metrics deletes every stored event with the tables, so it
is refused while they hold rows, unless user_metrics.allow_drop_with_data is on;
so are DROP SCHEMA user_metrics CASCADE and DROP OWNED BY the owner role, which
would drop them too. Empty, the extension drops as any other; other extensions,
schemas and tables are not affected."""
import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import drop_database, fresh_database
from events import event

DATABASE = "user_metrics_drop"
EVENTS = [
    event("d1", "ana@example.com", "ds1", "2026-11-20T09:00:00Z", 10),
    event("d2", "bob@example.com", "ds2", "2026-11-21T09:00:00Z", 5),
]
INVALID = event("d-bad", "bob@example.com", "ds2", "2026-11-21T09:00:00", 5)


@pytest.fixture
def url(dsn):
    url = fresh_database(dsn, DATABASE)
    yield url
    drop_database(dsn, DATABASE)


def counts(conn):
    return conn.execute("SELECT (SELECT count(*) FROM user_metrics.events), "
                        "(SELECT count(*) FROM user_metrics.rejected_events)").fetchone()


def installed(conn):
    return conn.execute("SELECT count(*) FROM pg_extension "
                        "WHERE extname = 'user_metrics'").fetchone()[0] == 1


@pytest.mark.parametrize("statement", [
    "DROP EXTENSION user_metrics",
    "DROP EXTENSION user_metrics CASCADE",
    "DROP EXTENSION IF EXISTS user_metrics",
    "DROP EXTENSION IF EXISTS some_other_extension, user_metrics",
])
def test_drop_is_refused_while_the_tables_hold_rows(url, statement):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS + [INVALID]),))
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as raised:
            conn.execute(statement)
        diag = raised.value.diag
        assert diag.message_primary == (
            "cannot drop extension user_metrics because its tables hold data")
        assert "user_metrics.events" in diag.message_detail
        assert "user_metrics.rejected_events" in diag.message_detail
        assert "SET user_metrics.allow_drop_with_data = on" in diag.message_hint
        assert installed(conn)
        assert counts(conn) == (2, 1)
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb(EVENTS),)).fetchone()[0]
        assert summary["duplicates"] == 2


def test_rows_in_the_quarantine_alone_are_data_too(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([INVALID]),))
        assert counts(conn) == (0, 1)
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as raised:
            conn.execute("DROP EXTENSION user_metrics")
        assert raised.value.diag.message_detail.startswith("user_metrics.rejected_events ")
        assert installed(conn)


def test_the_setting_allows_the_drop_and_the_extension_can_be_created_again(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS),))
    # A new session, which has not loaded the extension's library yet.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET user_metrics.allow_drop_with_data = on")
        conn.execute("DROP EXTENSION user_metrics")
        assert not installed(conn)
        conn.execute("RESET user_metrics.allow_drop_with_data")
        conn.execute("CREATE EXTENSION user_metrics")
        assert counts(conn) == (0, 0)
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb(EVENTS),)).fetchone()[0]
        assert summary["accepted"] == 2
        # The setting is off again: refused.
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            conn.execute("DROP EXTENSION user_metrics")
        assert installed(conn)


def test_the_setting_can_be_given_to_one_transaction(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS),))
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL user_metrics.allow_drop_with_data = on")
        conn.execute("DROP EXTENSION user_metrics")
        conn.commit()
        assert not installed(conn)


def test_empty_tables_drop_as_before(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS + [INVALID]),))
        # Emptied by the DBA (after a backup, say): nothing left to lose.
        conn.execute("TRUNCATE user_metrics.events, user_metrics.sessions, "
                     "user_metrics.users, user_metrics.rejected_events")
        conn.execute("DROP EXTENSION user_metrics")
        assert not installed(conn)
        conn.execute("CREATE EXTENSION user_metrics")
        conn.execute("DROP EXTENSION user_metrics")
        assert not installed(conn)
        conn.execute("CREATE EXTENSION user_metrics")
        assert installed(conn)


def test_other_extensions_drop_as_before_while_user_metrics_holds_data(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS),))
        conn.execute("CREATE EXTENSION hstore")
        conn.execute("DROP EXTENSION hstore")
        conn.execute("DROP EXTENSION IF EXISTS some_other_extension")
        assert conn.execute("SELECT count(*) FROM pg_extension "
                            "WHERE extname = 'hstore'").fetchone()[0] == 0
        assert counts(conn) == (2, 0)


def test_the_guard_is_an_event_trigger_owned_by_a_superuser(url):
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("""
            SELECT t.evtevent, t.evttags, r.rolsuper, t.evtenabled
            FROM pg_event_trigger AS t JOIN pg_roles AS r ON r.oid = t.evtowner
            JOIN pg_depend AS d ON d.classid = 'pg_event_trigger'::regclass AND d.objid = t.oid
                AND d.deptype = 'e'
                AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'user_metrics')
            """).fetchone()
        assert row == ("ddl_command_start",
                       ["DROP EXTENSION", "DROP SCHEMA", "DROP OWNED", "DROP TABLE"], True, "O")


@pytest.mark.parametrize("statement, message", [
    ("DROP SCHEMA user_metrics CASCADE",
     "cannot drop schema user_metrics because the tables of extension user_metrics hold data"),
    ("DROP SCHEMA IF EXISTS some_other_schema, user_metrics CASCADE",
     "cannot drop schema user_metrics because the tables of extension user_metrics hold data"),
    ("DROP OWNED BY user_metrics_owner CASCADE",
     'cannot drop the objects owned by role "user_metrics_owner" because the tables of '
     "extension user_metrics hold data"),
    ("DROP OWNED BY CURRENT_USER, user_metrics_owner",
     'cannot drop the objects owned by role "user_metrics_owner" because the tables of '
     "extension user_metrics hold data"),
])
def test_every_statement_that_would_drop_the_data_is_refused(url, statement, message):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS + [INVALID]),))
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as raised:
            conn.execute(statement)
        diag = raised.value.diag
        assert diag.message_primary == message
        assert "user_metrics.events" in diag.message_detail
        assert "user_metrics.rejected_events" in diag.message_detail
        assert diag.message_detail.endswith(f"which {statement.split(' ')[0]} "
                                            f"{statement.split(' ')[1]} would delete.")
        assert "SET user_metrics.allow_drop_with_data = on, then run the statement again" \
            in diag.message_hint
        assert installed(conn)
        assert counts(conn) == (2, 1)


def test_drop_schema_cascade_goes_through_with_the_setting_or_without_data(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS),))
        with conn.transaction():
            conn.execute("SET LOCAL user_metrics.allow_drop_with_data = on")
            conn.execute("DROP SCHEMA user_metrics CASCADE")
        assert not installed(conn)
        conn.execute("CREATE EXTENSION user_metrics")
        conn.execute("DROP SCHEMA user_metrics CASCADE")
        assert not installed(conn)


def test_other_schemas_tables_and_roles_drop_as_before(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS),))
        conn.execute("CREATE SCHEMA elsewhere")
        conn.execute("CREATE TABLE elsewhere.t (x int)")
        conn.execute("INSERT INTO elsewhere.t VALUES (1)")
        conn.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")
        conn.execute("DROP TABLE scratch, elsewhere.t")
        conn.execute("DROP TABLE IF EXISTS no_such_table")
        conn.execute("DROP SCHEMA elsewhere CASCADE")
        conn.execute("DROP ROLE IF EXISTS um_someone")
        conn.execute("CREATE ROLE um_someone")
        conn.execute("DROP OWNED BY um_someone")
        conn.execute("DROP ROLE um_someone")
        assert counts(conn) == (2, 0)
