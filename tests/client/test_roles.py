"""The roles user_metrics grants its rights to, attacked over real connections
(see SECURITY.md): an existing role of one of its names is refused when it could
do anything else; a database can have roles of its own, closed to those of the
other databases of the cluster; every function runs as a NOLOGIN owner role that
can do nothing but use the extension's own tables."""
import re
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import drop_database, fresh_database
from events import event

ROOT = Path(__file__).resolve().parents[2]
LATEST_RELEASE = max((re.match(r"user_metrics--(.+)\.sql", p.name).group(1)
                      for p in (ROOT / "sql" / "releases").glob("user_metrics--*.sql")),
                     key=lambda version: tuple(int(part) for part in version.split(".")))
GROUPS = ["user_metrics_writer", "user_metrics_reader", "user_metrics_admin"]
OWNER = "user_metrics_owner"
TABLES = ["users", "sessions", "events", "rejected_events", "counters", "forgotten_users"]
# A non-superuser who may create roles: on PostgreSQL 15 she may also alter and
# grant every role that is not a superuser.
MALLORY = "um_mallory"


def connect(url, user=None):
    if user is not None:
        url = psycopg.conninfo.make_conninfo(url, user=user)
    return psycopg.connect(url, autocommit=True)


def login_roles(conn, grants):
    """Creates login roles afresh: {role: [groups granted to it by the superuser]}."""
    for role, groups in grants.items():
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        for group in groups:
            conn.execute(f"GRANT {group} TO {role}")


def drop_roles(conn, roles):
    for role in roles:
        conn.execute(f"DROP ROLE IF EXISTS {role}")


def ingest(conn, payload):
    return conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(payload),)).fetchone()[0]


def restore_role(conn, role):
    """Takes away whatever a test gave one of the extension's roles."""
    conn.execute(f"ALTER ROLE {role} NOSUPERUSER NOCREATEDB NOCREATEROLE NOLOGIN NOREPLICATION "
                 "NOBYPASSRLS PASSWORD NULL")
    for (group,) in conn.execute("SELECT roleid::regrole::text FROM pg_auth_members "
                                 "WHERE member = %s::regrole", (role,)).fetchall():
        conn.execute(f"REVOKE {group} FROM {role}")
    for (member,) in conn.execute(
            "SELECT m.member::regrole::text FROM pg_auth_members AS m "
            "LEFT JOIN pg_roles AS g ON g.oid = m.grantor "
            "WHERE m.roleid = %s::regrole AND NOT coalesce(g.rolsuper, false)", (role,)).fetchall():
        conn.execute(f"REVOKE {role} FROM {member}")


@pytest.fixture
def mallory(dsn):
    """A connection as a CREATEROLE holder; afterwards the extension's roles are as
    before (and the owner role dropped if she created it)."""
    with connect(dsn) as admin:
        existed = {role for role in GROUPS + [OWNER] if admin.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()}
        drop_roles(admin, [MALLORY])
        admin.execute(f"CREATE ROLE {MALLORY} LOGIN CREATEROLE")
        with connect(dsn, MALLORY) as conn:
            yield conn
        for role in GROUPS + [OWNER]:
            if role in existed:
                restore_role(admin, role)
            else:
                admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"DROP OWNED BY {MALLORY}")
        drop_roles(admin, [MALLORY])


def prepared(conn, statements):
    """Runs the attacker's preparation as her. Returns False where PostgreSQL
    itself refuses it: from version 16 on, CREATEROLE no longer lets a role alter
    or grant roles on which she has no ADMIN OPTION, so on those versions this
    attack stops here (and the test checks that it does)."""
    try:
        for statement in statements:
            statement(conn) if callable(statement) else conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        if conn.info.server_version < 160000:
            raise
        return False
    return True


def ensure_owner_role(conn):
    """The owner role as an attacker finds it: 0.2.0 has none, so she makes one."""
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER,)).fetchone():
        conn.execute(f"CREATE ROLE {OWNER} NOLOGIN")


# Each attack: what the CREATEROLE holder does to the roles before a superuser runs
# CREATE EXTENSION in a new database (run as her, connected to that database), and
# what the refusal must say.
ATTACKS = {
    # An application granted the writer role could run any program as the server.
    "writer_runs_programs": (
        ["GRANT pg_execute_server_program TO user_metrics_writer"],
        ['role "user_metrics_writer" is a member of pg_execute_server_program']),
    # A dashboard granted the reader role could read and change every table.
    "reader_reads_and_writes_everything": (
        ["GRANT pg_read_all_data, pg_write_all_data TO user_metrics_reader"],
        ['role "user_metrics_reader" is a member of pg_read_all_data, pg_write_all_data']),
    # The admin role could create roles, and she is in it.
    "admin_creates_roles_and_has_her_as_member": (
        ["ALTER ROLE user_metrics_admin CREATEROLE", f"GRANT user_metrics_admin TO {MALLORY}"],
        ['role "user_metrics_admin" has CREATEROLE',
         f"has members not granted by a superuser: {MALLORY} (granted by {MALLORY})"]),
    # The role the functions run as could log in, with a password she knows.
    "owner_logs_in": (
        [ensure_owner_role, f"ALTER ROLE {OWNER} LOGIN CREATEDB PASSWORD 'known-to-mallory'"],
        [f'role "{OWNER}" has LOGIN, CREATEDB; has a password']),
    # A SECURITY DEFINER function owned by the reader role, left behind after she
    # left the role: anyone could read every report through it.
    "reader_owns_a_definer_function": (
        ["CREATE SCHEMA mallory_tools",
         "GRANT USAGE, CREATE ON SCHEMA mallory_tools TO user_metrics_reader",
         f"GRANT user_metrics_reader TO {MALLORY}",
         "SET ROLE user_metrics_reader",
         "CREATE FUNCTION mallory_tools.as_reader(query text) RETURNS SETOF jsonb "
         "LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN QUERY EXECUTE query; END $$",
         "RESET ROLE",
         f"REVOKE user_metrics_reader FROM {MALLORY}"],
        ['role "user_metrics_reader" owns function mallory_tools.as_reader(text)']),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_create_extension_refuses_roles_prepared_by_a_createrole_holder(dsn, mallory, attack):
    statements, expected = ATTACKS[attack]
    url = fresh_database(dsn, "um_roles_target", with_extension=False)
    try:
        with connect(dsn) as admin:
            admin.execute(f"GRANT CREATE ON DATABASE um_roles_target TO {MALLORY}")
        with connect(url, MALLORY) as conn:
            if not prepared(conn, statements):
                return
        with connect(url) as conn:
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as refused:
                conn.execute("CREATE EXTENSION user_metrics")
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'user_metrics'"
                                ).fetchone()[0] == 0
    finally:
        drop_database(dsn, "um_roles_target")
    message = refused.value.diag.message_primary
    assert message.startswith("user_metrics cannot use existing roles: ")
    for fragment in expected:
        assert fragment in message
    assert "granted by a superuser" in refused.value.diag.message_hint


def test_the_whole_attack_is_refused_naming_every_role(dsn, mallory):
    """The three group roles prepared at once, as an attacker would: one refusal
    names each of them and what is wrong with it."""
    url = fresh_database(dsn, "um_roles_target", with_extension=False)
    try:
        with connect(dsn) as admin:
            admin.execute("CREATE ROLE um_roles_app LOGIN")
        for name in ["writer_runs_programs", "reader_reads_and_writes_everything",
                     "admin_creates_roles_and_has_her_as_member"]:
            if not prepared(mallory, ATTACKS[name][0]):
                return
        with connect(dsn) as admin:
            # What the writer role would hand an application: the server's shell.
            admin.execute("GRANT user_metrics_writer TO um_roles_app")
        with connect(dsn, "um_roles_app") as app:
            app.execute("COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'")
        with connect(url) as conn:
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as refused:
                conn.execute("CREATE EXTENSION user_metrics")
    finally:
        drop_database(dsn, "um_roles_target")
        with connect(dsn) as admin:
            drop_roles(admin, ["um_roles_app"])
    message = refused.value.diag.message_primary
    assert ('role "user_metrics_writer" is a member of pg_execute_server_program; and '
            'role "user_metrics_reader" is a member of pg_read_all_data, pg_write_all_data; and '
            'role "user_metrics_admin" has CREATEROLE; '
            f"has members not granted by a superuser: {MALLORY} (granted by {MALLORY})") in message


def test_alter_extension_update_refuses_roles_prepared_by_a_createrole_holder(dsn, mallory):
    url = fresh_database(dsn, "um_roles_update", with_extension=False)
    try:
        with connect(url) as conn:
            conn.execute(f"CREATE EXTENSION user_metrics VERSION '{LATEST_RELEASE}'")
            if not prepared(mallory, ["GRANT pg_execute_server_program TO user_metrics_writer"]):
                return
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as refused:
                conn.execute("ALTER EXTENSION user_metrics UPDATE")
            assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                                ).fetchone()[0] == LATEST_RELEASE
    finally:
        drop_database(dsn, "um_roles_update")
    assert 'role "user_metrics_writer" is a member of pg_execute_server_program' in str(refused.value)


def test_the_extension_can_be_created_again_after_drop_extension(dsn):
    """DROP EXTENSION keeps the roles and the DBA's grants of them; CREATE
    EXTENSION takes them back, and the grants work again."""
    url = fresh_database(dsn, "um_roles_again", with_extension=False)
    try:
        with connect(dsn) as admin:
            login_roles(admin, {"um_again_app": ["user_metrics_writer"],
                                "um_again_ops": ["user_metrics_admin"]})
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            conn.execute("DROP EXTENSION user_metrics")
            conn.execute("CREATE EXTENSION user_metrics")
        with connect(url, "um_again_app") as app:
            assert ingest(app, event("again-1", "ana@x", "s1", "2026-11-20T10:00:00Z", 3))["accepted"] == 1
        with connect(url, "um_again_ops") as ops:
            assert ops.execute("SELECT talked_time FROM user_metrics.get_session_details('s1')"
                               ).fetchone()[0] == 3
    finally:
        drop_database(dsn, "um_roles_again")
        with connect(dsn) as admin:
            drop_roles(admin, ["um_again_app", "um_again_ops"])


# --- Several databases ----------------------------------------------------------

def test_a_database_with_its_own_roles_is_closed_to_the_roles_of_another(dsn):
    a = fresh_database(dsn, "um_roles_a", with_extension=False)
    b = fresh_database(dsn, "um_roles_b", with_extension=False, role_prefix="um_b_metrics")
    people = {"um_a_app": ["user_metrics_writer"], "um_a_dash": ["user_metrics_reader"],
              "um_b_app": [], "um_b_dash": []}
    try:
        with connect(dsn) as admin:
            login_roles(admin, people)
        for url in (a, b):
            with connect(url) as conn:
                conn.execute("CREATE EXTENSION user_metrics")

        # Roles granted for database A get nothing in database B.
        with connect(b, "um_a_app") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            ingest(conn, event("cross-1", "ana@x", "s1", "2026-11-20T10:00:00Z", 1))
        with connect(b, "um_a_dash") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM user_metrics.aggregate_user_metrics()")

        # B's own roles work in B, and only there.
        with connect(dsn) as admin:
            admin.execute("GRANT um_b_metrics_writer TO um_b_app")
            admin.execute("GRANT um_b_metrics_reader TO um_b_dash")
        with connect(b, "um_b_app") as conn:
            assert ingest(conn, event("b-1", "ana@x", "s1", "2026-11-20T10:00:00Z", 2))["accepted"] == 1
        with connect(b, "um_b_dash") as conn:
            assert conn.execute("SELECT email, total_talked_time FROM user_metrics.aggregate_user_metrics()"
                                ).fetchall() == [("ana@x", 2)]
        with connect(a, "um_b_app") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            ingest(conn, event("cross-2", "ana@x", "s1", "2026-11-20T10:00:00Z", 1))
        with connect(a, "um_b_dash") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM user_metrics.aggregate_user_metrics()")
        with connect(a, "um_a_app") as conn:
            assert ingest(conn, event("a-1", "bob@x", "s1", "2026-11-20T10:00:00Z", 4))["accepted"] == 1

        # In B no right names a default role, and B's owner role owns everything.
        with connect(b) as conn:
            grantees = {row[0] for row in conn.execute("""
                SELECT a.grantee::regrole::text
                FROM pg_proc AS p, aclexplode(p.proacl) AS a
                WHERE p.pronamespace = 'user_metrics'::regnamespace
                UNION
                SELECT a.grantee::regrole::text
                FROM pg_namespace AS n, aclexplode(n.nspacl) AS a WHERE n.nspname = 'user_metrics'
            """)}
            assert grantees == {"postgres", "um_b_metrics_owner", "um_b_metrics_writer",
                                "um_b_metrics_reader", "um_b_metrics_admin"}
            owners = {row[0] for row in conn.execute("""
                SELECT proowner::regrole::text FROM pg_proc WHERE pronamespace = 'user_metrics'::regnamespace
                    AND oid <> 'user_metrics.distribute(integer)'::regprocedure
                UNION SELECT relowner::regrole::text FROM pg_class WHERE relnamespace = 'user_metrics'::regnamespace
            """)}
            assert owners == {"um_b_metrics_owner"}
    finally:
        drop_database(dsn, "um_roles_a")
        drop_database(dsn, "um_roles_b")
        with connect(dsn) as admin:
            drop_roles(admin, list(people) + [f"um_b_metrics_{kind}" for kind in
                                              ("writer", "reader", "admin", "owner")])


def test_roles_shared_with_another_database_are_announced(dsn):
    url = fresh_database(dsn, "um_roles_shared", with_extension=False)
    warnings = []
    try:
        with connect(url) as conn:
            conn.add_notice_handler(lambda diag: warnings.append(diag.message_primary)
                                    if diag.severity_nonlocalized == "WARNING" else None)
            conn.execute("CREATE EXTENSION user_metrics")
    finally:
        drop_database(dsn, "um_roles_shared")
    # The client tests' own database has the extension with the default roles.
    shared = [w for w in warnings if w.startswith(
        "roles user_metrics_writer, user_metrics_reader and user_metrics_admin also have rights in database ")]
    assert len(shared) == 1 and '"user_metrics_client"' in shared[0], warnings


def test_an_invalid_role_prefix_is_refused(dsn):
    url = fresh_database(dsn, "um_roles_bad_prefix", with_extension=False, role_prefix="Metrics-B")
    try:
        with connect(url) as conn, pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
            conn.execute("CREATE EXTENSION user_metrics")
    finally:
        drop_database(dsn, "um_roles_bad_prefix")
    assert refused.value.diag.message_primary == \
        'invalid value for setting "user_metrics.role_prefix": "Metrics-B"'


def test_an_update_gives_a_database_with_a_prefix_its_own_roles(dsn):
    """ALTER EXTENSION UPDATE does what CREATE EXTENSION does: a database that
    sets a role prefix before updating ends with its own roles."""
    url = fresh_database(dsn, "um_roles_update_prefix", with_extension=False, role_prefix="um_u_metrics")
    try:
        with connect(url) as conn:
            conn.execute(f"CREATE EXTENSION user_metrics VERSION '{LATEST_RELEASE}'")
            conn.execute("ALTER EXTENSION user_metrics UPDATE")
            rights = conn.execute("""
                SELECT p.proname, array_agg(a.grantee::regrole::text ORDER BY a.grantee::regrole::text)
                FROM pg_proc AS p, aclexplode(p.proacl) AS a
                WHERE p.pronamespace = 'user_metrics'::regnamespace AND p.proname IN ('ingest_metrics', 'health')
                GROUP BY p.proname ORDER BY p.proname
            """).fetchall()
            owners = {row[0] for row in conn.execute("""
                SELECT proowner::regrole::text FROM pg_proc WHERE pronamespace = 'user_metrics'::regnamespace
                    AND oid <> 'user_metrics.distribute(integer)'::regprocedure
                UNION SELECT relowner::regrole::text FROM pg_class WHERE relnamespace = 'user_metrics'::regnamespace
            """)}
    finally:
        drop_database(dsn, "um_roles_update_prefix")
        with connect(dsn) as admin:
            drop_roles(admin, [f"um_u_metrics_{kind}" for kind in ("writer", "reader", "admin", "owner")])
    assert rights == [
        ("health", ["um_u_metrics_admin", "um_u_metrics_owner", "um_u_metrics_reader"]),
        ("ingest_metrics", ["um_u_metrics_admin", "um_u_metrics_owner", "um_u_metrics_writer"]),
    ]
    assert owners == {"um_u_metrics_owner"}


# --- The owner the functions run as ---------------------------------------------

def test_everything_belongs_to_a_nologin_owner_role_with_no_other_power(db):
    owners = db.execute("""
        SELECT DISTINCT proowner::regrole::text FROM pg_proc WHERE pronamespace = 'user_metrics'::regnamespace
            AND oid <> 'user_metrics.distribute(integer)'::regprocedure
        UNION SELECT relowner::regrole::text FROM pg_class WHERE relnamespace = 'user_metrics'::regnamespace
    """).fetchall()
    assert owners == [(OWNER,)]
    # distribute(), which only a superuser may run, belongs to the superuser who
    # installed the extension: the owner role cannot change what a superuser runs.
    assert db.execute("SELECT r.rolsuper, p.proacl::text FROM pg_proc AS p JOIN pg_roles AS r ON r.oid = p.proowner "
                      "WHERE p.oid = 'user_metrics.distribute(integer)'::regprocedure").fetchone() == \
        (True, "{postgres=X/postgres}")
    # Every function callers use on the tables runs as the owner role. Not
    # normalize_email, user_key and payload_digest, which compute a value from
    # their argument alone, nor the drop guard, which runs as whoever drops, nor
    # distribute(), which runs as the superuser who calls it.
    assert db.execute("SELECT bool_and(prosecdef = (proname NOT IN "
                      "('normalize_email', 'user_key', 'payload_digest', 'drop_guard', 'distribute'))) "
                      "FROM pg_proc "
                      "WHERE pronamespace = 'user_metrics'::regnamespace").fetchone()[0] is True
    role = db.execute("""
        SELECT rolsuper, rolcanlogin, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
               rolpassword IS NULL,
               (SELECT count(*) FROM pg_auth_members WHERE member = a.oid),
               (SELECT count(*) FROM pg_auth_members WHERE roleid = a.oid)
        FROM pg_authid AS a WHERE rolname = %s
    """, (OWNER,)).fetchone()
    assert role == (False, False, False, False, False, False, True, 0, 0)
    # Beyond its own objects, it may only use their schema.
    assert db.execute("SELECT has_schema_privilege(%s, 'user_metrics', 'USAGE'), "
                      "has_schema_privilege(%s, 'user_metrics', 'CREATE')", (OWNER, OWNER)).fetchone() == (True, False)


def functions_owner(conn):
    return conn.execute("SELECT proowner::regrole::text FROM pg_proc "
                        "WHERE oid = 'user_metrics.ingest_metrics(jsonb, text)'::regprocedure").fetchone()[0]


# What code running with the rights of the functions' owner could do if that owner
# were a superuser.
OWNER_MUST_NOT = [
    "SELECT rolname, rolpassword FROM pg_authid",
    "COPY (SELECT 'written by the owner') TO '/tmp/user_metrics_owner_probe'",
    "COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'",
    "COPY user_metrics.events FROM PROGRAM 'true'",
    "SELECT pg_read_file('PG_VERSION')",
    "SELECT pg_ls_dir('.')",
    "SELECT lo_import('/etc/hostname')",
    "CREATE ROLE um_made_by_owner SUPERUSER",
    "ALTER SYSTEM SET log_statement = 'all'",
]
# Undoes whatever of the above succeeded, as a superuser.
OWNER_CLEANUP = [
    "DROP ROLE IF EXISTS um_made_by_owner",
    "ALTER SYSTEM RESET log_statement",
    "SELECT lo_unlink(oid) FROM pg_largeobject_metadata",
]


@pytest.mark.parametrize("statement", OWNER_MUST_NOT)
def test_the_functions_owner_cannot_read_secrets_touch_files_or_run_programs(db, statement):
    db.execute(f"SET ROLE {functions_owner(db)}")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute(statement)
    finally:
        db.execute("RESET ROLE")
        for cleanup in OWNER_CLEANUP:
            db.execute(cleanup)


PROBE = """
CREATE SCHEMA um_probe;
GRANT USAGE ON SCHEMA um_probe TO PUBLIC;
CREATE FUNCTION um_probe.runs_as() RETURNS boolean LANGUAGE plpgsql AS
    $$ BEGIN RAISE NOTICE 'runs as %', current_user; RETURN true; END $$;
"""


def test_every_function_runs_as_the_owner_role(dsn):
    """Row security on every table, with a policy that reports current_user, shows
    who each function runs as. (A superuser would bypass the policies unseen.)"""
    url = fresh_database(dsn, "um_roles_probe", with_extension=False)
    people = {"um_probe_app": ["user_metrics_writer"], "um_probe_dash": ["user_metrics_reader"],
              "um_probe_ops": ["user_metrics_admin"]}
    try:
        with connect(dsn) as admin:
            login_roles(admin, people)
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            ingest(conn, [event("p-1", "ana@x", "s1", "2026-11-20T10:00:00Z", 5),
                          event("p-bad", "ana@x", "s1", "2026-11-20T10:00:00", 5)])
            ingest(conn, event("p-bad-2", "bob@x", "s2", "2026-11-20T10:00:00", 5))
            (replay_id,), (discard_id,) = conn.execute(
                "SELECT id FROM user_metrics.rejected_events ORDER BY id").fetchall()
            conn.execute(PROBE)
            for table in TABLES:
                conn.execute(f"ALTER TABLE user_metrics.{table} ENABLE ROW LEVEL SECURITY")
                conn.execute(f"ALTER TABLE user_metrics.{table} FORCE ROW LEVEL SECURITY")
                conn.execute(f"CREATE POLICY probe ON user_metrics.{table} "
                             "USING (um_probe.runs_as()) WITH CHECK (um_probe.runs_as())")
        calls = [
            ("um_probe_app", "SELECT user_metrics.ingest_metrics(%s)",
             (Jsonb(event("p-2", "ana@x", "s1", "2026-11-20T11:00:00Z", 1)),)),
            ("um_probe_dash", "SELECT * FROM user_metrics.aggregate_user_metrics()", None),
            ("um_probe_dash", "SELECT * FROM user_metrics.get_session_details('s1')", None),
            ("um_probe_dash", "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')", None),
            ("um_probe_dash", "SELECT user_metrics.health()", None),
            ("um_probe_ops", "SELECT * FROM user_metrics.list_rejected_events()", None),
            ("um_probe_ops", "SELECT user_metrics.replay_rejected(%s)", ([replay_id],)),
            ("um_probe_ops", "SELECT user_metrics.discard_rejected(%s)", ([discard_id],)),
            ("um_probe_dash", "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23', 'UTC')", None),
            ("um_probe_ops", "SELECT user_metrics.forget_user('ana@x')", None),
        ]
        seen = {}
        for role, statement, params in calls:
            notices = []
            with connect(url, role) as conn:
                conn.add_notice_handler(lambda diag: notices.append(diag.message_primary))
                conn.execute(statement, params).fetchall()
            seen[statement] = set(notices)
    finally:
        drop_database(dsn, "um_roles_probe")
        with connect(dsn) as admin:
            drop_roles(admin, people)
    assert seen == {statement: {f"runs as {OWNER}"} for _, statement, _ in calls}


def test_the_role_prefix_is_read_whatever_case_the_dba_wrote(dsn):
    """ALTER DATABASE keeps a setting's name as it was written, and PostgreSQL (SHOW,
    current_setting) matches names in any case: so does CREATE EXTENSION."""
    url = fresh_database(dsn, "um_roles_case", with_extension=False)
    try:
        with connect(dsn) as admin:
            admin.execute("ALTER DATABASE um_roles_case SET \"User_Metrics.Role_Prefix\" = 'um_case_metrics'")
        with connect(url) as conn:
            assert conn.execute("SHOW user_metrics.role_prefix").fetchone()[0] == "um_case_metrics"
            conn.execute("CREATE EXTENSION user_metrics")
            assert conn.execute("SELECT relowner::regrole::text FROM pg_class "
                                "WHERE oid = 'user_metrics.users'::regclass").fetchone()[0] \
                == "um_case_metrics_owner"
            assert conn.execute("SELECT has_function_privilege('um_case_metrics_writer', "
                                "'user_metrics.ingest_metrics(jsonb, text)', 'EXECUTE')").fetchone()[0]
    finally:
        drop_database(dsn, "um_roles_case")
        with connect(dsn) as admin:
            drop_roles(admin, [f"um_case_metrics_{kind}" for kind in ("writer", "reader", "admin", "owner")])


def test_a_role_prefix_that_would_be_ignored_is_refused(dsn):
    """The prefix is read from the database's settings only; one set for the session
    (SET, ALTER ROLE, the connection) that differs would be ignored: refused."""
    url = fresh_database(dsn, "um_roles_session", with_extension=False)
    try:
        with connect(url) as conn:
            conn.execute("SET user_metrics.role_prefix = 'um_session_metrics'")
            with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
                conn.execute("CREATE EXTENSION user_metrics")
            diag = refused.value.diag
            assert diag.message_primary == ('user_metrics.role_prefix is "um_session_metrics" in this '
                                            'session but "user_metrics" for database "um_roles_session"')
            assert ("ALTER DATABASE um_roles_session SET user_metrics.role_prefix = "
                    "'um_session_metrics'") in diag.message_hint
            assert conn.execute("SELECT count(*) FROM pg_roles "
                                "WHERE rolname LIKE 'um\\_session\\_metrics%'").fetchone()[0] == 0
            # The same value as the database's is no problem.
            conn.execute("SET user_metrics.role_prefix = 'user_metrics'")
            conn.execute("CREATE EXTENSION user_metrics")
    finally:
        drop_database(dsn, "um_roles_session")
