"""Schema user_metrics made, or changed, by a role that may create schemas in the
database (its owner, or a role granted CREATE on it): CREATE EXTENSION and ALTER
EXTENSION UPDATE refuse it with 42501, naming the schema and its owner, and
nothing is installed into it. A schema a superuser made and left empty, as
pg_restore makes it before CREATE EXTENSION, is used."""
import psycopg
import pytest

from clusters import drop_database, fresh_database

DATABASE = "um_schema_trust"
OWNER_ROLE = "um_db_owner"
CREATOR = "um_creator"


def connect(url, user=None):
    if user is not None:
        url = psycopg.conninfo.make_conninfo(url, user=user)
    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def url(dsn):
    """A database owned by um_db_owner, where um_creator may create schemas."""
    with connect(dsn) as admin:
        for role in (OWNER_ROLE, CREATOR):
            admin.execute(f"DROP ROLE IF EXISTS {role}")
            admin.execute(f"CREATE ROLE {role} LOGIN")
    url = fresh_database(dsn, DATABASE, with_extension=False)
    with connect(dsn) as admin:
        admin.execute(f"ALTER DATABASE {DATABASE} OWNER TO {OWNER_ROLE}")
        admin.execute(f"GRANT CREATE ON DATABASE {DATABASE} TO {CREATOR}")
    yield url
    drop_database(dsn, DATABASE)
    with connect(dsn) as admin:
        for role in (OWNER_ROLE, CREATOR):
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def installed(conn):
    return conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'user_metrics'"
                        ).fetchone()[0] == 1


def refused(conn, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as raised:
        conn.execute(statement)
    return raised.value.diag


@pytest.mark.parametrize("attacker", [OWNER_ROLE, CREATOR])
def test_create_extension_refuses_a_schema_made_before_it_by_another_role(url, attacker):
    with connect(url, attacker) as conn:
        conn.execute("CREATE SCHEMA user_metrics")
        # What she would do next: be called by the extension's functions.
        conn.execute("CREATE TABLE user_metrics.captured (payload jsonb)")
    with connect(url) as dba:
        diag = refused(dba, "CREATE EXTENSION user_metrics")
        assert diag.message_primary.startswith(
            f'user_metrics will not install into schema "user_metrics", owned by role "{attacker}": '
            f'it is owned by role "{attacker}", which is not a superuser')
        assert f'table captured (owned by "{attacker}")' in diag.message_primary
        assert "DROP SCHEMA user_metrics CASCADE" in diag.message_hint
        assert not installed(dba)
        # Once the DBA has dropped it, the extension makes its own.
        dba.execute("DROP SCHEMA user_metrics CASCADE")
        dba.execute("CREATE EXTENSION user_metrics")
        assert dba.execute("SELECT nspowner::regrole::text FROM pg_namespace "
                           "WHERE nspname = 'user_metrics'").fetchone()[0] == "postgres"


def test_a_superusers_schema_where_another_role_may_create_objects_is_refused(url):
    with connect(url) as dba:
        dba.execute("CREATE SCHEMA user_metrics")
        dba.execute(f"GRANT CREATE ON SCHEMA user_metrics TO {CREATOR}")
    with connect(url, CREATOR) as conn:
        conn.execute("CREATE FUNCTION user_metrics.jsonb_build_object(text, text) RETURNS jsonb "
                     "LANGUAGE sql AS $$ SELECT '{}'::jsonb $$")
    with connect(url) as dba:
        diag = refused(dba, "CREATE EXTENSION user_metrics")
        assert 'owned by role "postgres"' in diag.message_primary
        assert f'roles that are not superusers may create objects in it: "{CREATOR}"' \
            in diag.message_primary
        assert (f'function jsonb_build_object(text,text) (owned by "{CREATOR}")'
                in diag.message_primary)
        assert not installed(dba)
        # CREATE taken back, her function still there: still refused.
        dba.execute(f"REVOKE CREATE ON SCHEMA user_metrics FROM {CREATOR}")
        diag = refused(dba, "CREATE EXTENSION user_metrics")
        assert "may create objects" not in diag.message_primary
        assert "jsonb_build_object" in diag.message_primary


def test_an_empty_schema_of_a_superuser_is_used_as_pg_restore_makes_it(url):
    with connect(url) as dba:
        dba.execute("CREATE SCHEMA user_metrics")
        dba.execute("CREATE EXTENSION user_metrics")
        assert installed(dba)
        assert dba.execute("SELECT user_metrics.health()->>'status'").fetchone()[0] == "ok"


@pytest.mark.parametrize("change", [
    f"ALTER SCHEMA user_metrics OWNER TO {OWNER_ROLE}",
    f"GRANT CREATE ON SCHEMA user_metrics TO {CREATOR}",
    f"GRANT CREATE ON SCHEMA user_metrics TO PUBLIC",
])
def test_alter_extension_update_refuses_a_schema_changed_since_the_install(url, change):
    with connect(url) as dba:
        dba.execute("CREATE EXTENSION user_metrics VERSION '0.3.0'")
        dba.execute(change)
        diag = refused(dba, "ALTER EXTENSION user_metrics UPDATE")
        assert diag.message_primary.startswith(
            'user_metrics will not update its objects in schema "user_metrics", owned by role ')
        assert "ALTER SCHEMA user_metrics OWNER TO" in diag.message_hint
        assert dba.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                           ).fetchone()[0] == "0.3.0"
        # Put back as the install made it, the update goes through.
        dba.execute("ALTER SCHEMA user_metrics OWNER TO postgres")
        dba.execute(f"REVOKE CREATE ON SCHEMA user_metrics FROM {CREATOR}, PUBLIC")
        dba.execute("ALTER EXTENSION user_metrics UPDATE")
        assert dba.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                           ).fetchone()[0] != "0.3.0"
