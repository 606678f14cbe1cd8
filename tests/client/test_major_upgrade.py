"""Moving to a new PostgreSQL major version by dump and restore, as README,
"Moving to a new PostgreSQL major version" says, from the PostgreSQL of
USER_METRICS_UPGRADE_FROM_PG_CONFIG (15) to the one under test (PG_CONFIG, 18),
each with this version of the extension installed.

The old cluster has two databases with the extension, one with roles of its own
(user_metrics.role_prefix) and a table of its own, login roles granted the
extension's roles, and data written through them: stored events, quarantined
ones, an erasure, ids used up by a rolled-back call. pg_dumpall --globals-only and
pg_dump --create of each database (with the new version's pg_dump, and the one
with a table of its own with the old server's), restored by the new version's
tools into a fresh cluster of the new version: every row and sequence position,
every report, health()'s counts, every role and membership and the databases'
settings come across; the extension's catalog (owners and grants included) is
that of a fresh install on the new server; and ingestion goes on under the login
roles, each still confined to its own database.

scripts/test.sh runs it once, in its PostgreSQL 18 phase (marker major_upgrade),
where both versions are installed."""
import os

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import contents, extra_port, fresh_cluster, main_cluster, run_tool
from events import a_moved_data_set, event
from test_upgrade import catalog

pytestmark = pytest.mark.major_upgrade

# Each database: its role prefix (None: the default roles), its login roles
# {role: the suffix of the group granted to it}, and whose pg_dump dumps it: the
# new version's, as PostgreSQL advises, or the old server's own, for a database
# that also holds a table of its own (README: Debian's 15.20 and pg_attver).
DATABASES = {
    "metrics": {"prefix": None, "dumped_by": "new",
                "roles": {"metrics_app": "writer", "dashboard": "reader", "alice": "admin"}},
    "billing": {"prefix": "billing_metrics", "dumped_by": "old",
                "roles": {"billing_app": "writer", "billing_admin": "admin"}},
}
LOGIN_ROLES = sorted(role for d in DATABASES.values() for role in d["roles"])
OWN_TABLE = "public.invoices"

STORED, REFUSED, LATER = a_moved_data_set("m")
ROLLED_BACK = [event("gone", "dan@example.com", "s-gone", "2026-11-21T10:00:00Z", 2)]

REPORTS = [
    "SELECT * FROM user_metrics.aggregate_user_metrics()",
    "SELECT * FROM user_metrics.aggregate_user_metrics('ANA@example.com', '2026-11-16', '2026-11-23')",
    "SELECT * FROM user_metrics.get_session_details('s-1')",
    "SELECT * FROM user_metrics.get_session_details('s-2', 'bob@example.com')",
    "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23'::date, 'Europe/Berlin')",
    "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23 00:00+00'::timestamptz)",
    "SELECT id, batch_index, event_id, error_code, error_message, payload "
    "FROM user_metrics.list_rejected_events()",
    "SELECT day, calls, accepted, duplicates, rejected, rejected_by_code FROM user_metrics.ingest_stats",
    # health() but for the server's own version string.
    "SELECT user_metrics.health() - 'postgres'",
]
# Every login role and every role of the extension: attributes, and who is a member of whom.
ROLES = """
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolpassword IS NULL,
       array(SELECT g.rolname || CASE WHEN m.admin_option THEN ' (admin)' ELSE '' END
             FROM pg_auth_members AS m JOIN pg_roles AS g ON g.oid = m.roleid
             WHERE m.member = r.oid ORDER BY 1)
FROM pg_authid AS r
WHERE r.rolname LIKE '%%metrics%%' OR r.rolname = ANY (%s)
ORDER BY r.rolname
"""
SETTINGS = ("SELECT coalesce(d.datname, ''), s.setconfig FROM pg_db_role_setting AS s "
            "LEFT JOIN pg_database AS d ON d.oid = s.setdatabase ORDER BY 1")


def upgrade_from_pg_config():
    path = os.environ.get("USER_METRICS_UPGRADE_FROM_PG_CONFIG")
    if not path:
        raise RuntimeError("USER_METRICS_UPGRADE_FROM_PG_CONFIG is not set: the pg_config of the "
                           "PostgreSQL to move from (scripts/test.sh sets it in its PostgreSQL 18 phase)")
    return path


def major_version(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.info.server_version // 10000


def connect(dsn, dbname, user="postgres"):
    return psycopg.connect(psycopg.conninfo.make_conninfo(dsn, dbname=dbname, user=user),
                           autocommit=True)


def ingest(conn, events):
    return conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(events),)).fetchone()[0]


def group(database, suffix):
    return f"{DATABASES[database]['prefix'] or 'user_metrics'}_{suffix}"


def login_role(database, suffix):
    """The login role of the database granted the group of that suffix."""
    return next(role for role, s in DATABASES[database]["roles"].items() if s == suffix)


def set_up(dsn):
    """The old cluster: both databases, their roles and their data."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for role in LOGIN_ROLES:
            conn.execute(f"CREATE ROLE {role} LOGIN")
        for database, settings in DATABASES.items():
            conn.execute(f"CREATE DATABASE {database}")
            if settings["prefix"]:
                conn.execute(f"ALTER DATABASE {database} SET user_metrics.role_prefix = "
                             f"'{settings['prefix']}'")
    for database, settings in DATABASES.items():
        with connect(dsn, database) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            for role, suffix in settings["roles"].items():
                conn.execute(f"GRANT {group(database, suffix)} TO {role}")
            if settings["dumped_by"] == "old":
                conn.execute(f"CREATE TABLE {OWN_TABLE} (id integer PRIMARY KEY, note text)")
                conn.execute(f"INSERT INTO {OWN_TABLE} VALUES (1, 'kept beside the extension')")
        writer, admin = login_role(database, "writer"), login_role(database, "admin")
        with connect(dsn, database, writer) as conn:
            summary = ingest(conn, STORED + REFUSED)
            assert (summary["accepted"], summary["rejected"]) == (len(STORED), len(REFUSED))
            with conn.transaction(force_rollback=True):
                ingest(conn, ROLLED_BACK)
        with connect(dsn, database, admin) as conn:
            conn.execute("SELECT user_metrics.forget_user('erased@example.com')")


def snapshot(dsn):
    """What must come across: per database, every row, sequence and report (and
    the rows of its own table); for the cluster, the roles and the databases'
    settings."""
    databases = {}
    for database in DATABASES:
        with connect(dsn, database) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            databases[database] = {
                "contents": contents(conn),
                "reports": {query: conn.execute(query).fetchall() for query in REPORTS},
            }
            if DATABASES[database]["dumped_by"] == "old":
                databases[database]["own rows"] = conn.execute(
                    f"SELECT * FROM {OWN_TABLE} ORDER BY id").fetchall()
    with psycopg.connect(dsn, autocommit=True) as conn:
        roles = conn.execute(ROLES, (LOGIN_ROLES,)).fetchall()
        settings = conn.execute(SETTINGS).fetchall()
    return {"databases": databases, "roles": roles, "settings": settings}


def test_dump_and_restore_into_the_next_major_version(tmp_path):
    old_pg_config = upgrade_from_pg_config()
    name = main_cluster()[0]
    with fresh_cluster(f"{name}-major-old", extra_port(4), old_pg_config) as old, \
            fresh_cluster(f"{name}-major-new", extra_port(5)) as new:
        assert major_version(old) < major_version(new)
        set_up(old)
        before = snapshot(old)
        assert before["settings"] == [("billing", ["user_metrics.role_prefix=billing_metrics"])]

        # README's commands: roles first, then each database, restored by the new
        # version's tools.
        run_tool(old, "pg_dumpall", "--globals-only", f"--file={tmp_path / 'globals.sql'}")
        for database, settings in DATABASES.items():
            run_tool(old, "pg_dump", "--create", "--format=custom",
                     f"--file={tmp_path / database}.dump", database,
                     pg_config=old_pg_config if settings["dumped_by"] == "old" else None)
        restore = run_tool(new, "psql", "--no-psqlrc", "--quiet", "--dbname=postgres",
                           f"--file={tmp_path / 'globals.sql'}")
        errors = [line for line in restore.stderr.splitlines() if "ERROR" in line]
        assert all('role "postgres" already exists' in line for line in errors), restore.stderr
        for database in DATABASES:
            run_tool(new, "pg_restore", "--create", "--exit-on-error", "--dbname=postgres",
                     f"{tmp_path / database}.dump")

        after = snapshot(new)
        assert after["roles"] == before["roles"]
        assert after["settings"] == before["settings"]
        for database in DATABASES:
            for part, value in before["databases"][database].items():
                assert after["databases"][database][part] == value, (database, part)
        assert_fresh_install_catalog(new)
        assert_ingestion_goes_on(new)


def assert_fresh_install_catalog(dsn):
    """Each restored database holds the extension exactly as a fresh CREATE EXTENSION
    makes it on the new server with the same roles: objects, owners, grants. (The
    old server's catalog differs by what the new version records: NOT NULL
    constraints, row types as members, the MAINTAIN privilege.)"""
    for database, settings in DATABASES.items():
        prefix = settings["prefix"]
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE fresh_{database}")
            if prefix:
                conn.execute(f"ALTER DATABASE fresh_{database} SET user_metrics.role_prefix = '{prefix}'")
        with connect(dsn, f"fresh_{database}") as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            fresh = catalog(conn)
        with connect(dsn, database) as conn:
            restored = catalog(conn)
        assert restored == fresh, (database, sorted(set(restored) ^ set(fresh)))


def assert_ingestion_goes_on(dsn):
    for database in DATABASES:
        with connect(dsn, database, login_role(database, "writer")) as conn:
            summary = ingest(conn, LATER)
            assert (summary["accepted"], summary["duplicates"]) == (len(LATER), 0), summary
            again = ingest(conn, STORED)
            assert (again["accepted"], again["duplicates"]) == (0, len(STORED)), again
        with connect(dsn, database) as conn:
            health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
            # ana, bob, zoë and eve (the new one); ana's s-1 has an event more.
            assert (health["users"], health["sessions"], health["events"], health["rejected"]) \
                == (4, 4, len(STORED) + len(LATER), len(REFUSED)), health
            assert conn.execute("SELECT event_count, talked_time::text FROM "
                                "user_metrics.get_session_details('s-1')").fetchone() == (3, "151.75")
    # Each database's roles are its own, on the new server as on the old.
    with connect(dsn, "billing", "metrics_app") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ingest(conn, LATER)
    with connect(dsn, "metrics", "billing_app") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ingest(conn, LATER)
