"""Who may do what, over real connections as non-superuser login roles: every
grant works and every denial is SQLSTATE 42501; a hostile search_path cannot
change what the functions do; SQL in event fields is stored as data."""
import psycopg
import pytest
from psycopg.types.json import Jsonb

from events import event

# Each table with a column that an UPDATE may set.
TABLES = {"users": "name", "sessions": "device", "events": "received_at",
          "rejected_events": "received_at", "counters": "events", "forgotten_users": "events",
          "ingest_counters": "calls"}
CALLS = {
    "ingest": "SELECT user_metrics.ingest_metrics('[]')",
    "user_totals": "SELECT * FROM user_metrics.aggregate_user_metrics()",
    "session_details": "SELECT * FROM user_metrics.get_session_details('s1')",
    "weekly": "SELECT * FROM user_metrics.generate_weekly_report()",
    "health": "SELECT user_metrics.health()",
    "rejected": "SELECT * FROM user_metrics.list_rejected_events()",
    "replay": "SELECT user_metrics.replay_rejected('{}')",
    "discard": "SELECT user_metrics.discard_rejected('{}')",
    "forget": "SELECT user_metrics.forget_user('nobody@example.com')",
    "ingest_stats": "SELECT * FROM user_metrics.ingest_stats",
}
REPORTS = {"user_totals", "session_details", "weekly", "health", "ingest_stats"}
# Login role -> (group roles granted to it, the calls it may make)
ROLES = {
    "um_app": (["user_metrics_writer"], {"ingest"}),
    "um_dashboard": (["user_metrics_reader"], REPORTS),
    "um_ops": (["user_metrics_admin"], {"ingest", "rejected", "replay", "discard", "forget"} | REPORTS),
    "um_nobody": ([], set()),
}


@pytest.fixture(scope="module")
def roles(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        for role, (groups, _) in ROLES.items():
            conn.execute(f"DROP ROLE IF EXISTS {role}")
            conn.execute(f"CREATE ROLE {role} LOGIN")
            for group in groups:
                conn.execute(f"GRANT {group} TO {role}")
        sequences = [r[0] for r in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class AS c "
            "WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'S'")]
    assert len(sequences) == 4, sequences
    return sequences


def as_role(dsn, role):
    return psycopg.connect(psycopg.conninfo.make_conninfo(dsn, user=role), autocommit=True)


def table_statements(sequences):
    for table, column in TABLES.items():
        name = f"user_metrics.{table}"
        yield f"SELECT * FROM {name}"
        yield f"INSERT INTO {name} DEFAULT VALUES"
        yield f"UPDATE {name} SET {column} = DEFAULT"
        yield f"DELETE FROM {name}"
        yield f"TRUNCATE {name}"
    for sequence in sequences:
        yield f"SELECT nextval('{sequence}')"


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_can_make_exactly_its_calls(dsn, roles, role):
    _, allowed = ROLES[role]
    with as_role(dsn, role) as conn:
        for name, sql in CALLS.items():
            if name in allowed:
                conn.execute(sql).fetchall()
            else:
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as denied:
                    conn.execute(sql)
                assert denied.value.sqlstate == "42501", (role, name)
        for sql in table_statements(roles):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)


def test_a_writer_stores_events_it_cannot_read_back(dsn, roles, db):
    with as_role(dsn, "um_app") as conn:
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(
            event("w1", "w@x", "sw", "2026-11-23T09:00:00Z", 5)),)).fetchone()[0]
        assert summary["accepted"] == 1
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 1


def test_a_writer_learns_nothing_of_other_users_sessions_and_event_ids(dsn, roles, db):
    """Session ids and event ids are per user: what a writer's calls answer for its
    own e-mail is the same whether or not another user has that session or event."""
    db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(
        event("victim-e1", "victim@x", "victim-s1", "2026-11-23T09:00:00Z", 5)),))

    def probe(conn, session, event_id, mode):
        conn.execute("BEGIN")
        try:
            return conn.execute("SELECT user_metrics.ingest_metrics(%s, %s)", (Jsonb(
                event(event_id, "attacker@x", session, "2026-11-23T09:00:00Z", 1)), mode)
            ).fetchone()[0]
        finally:
            conn.execute("ROLLBACK")

    with as_role(dsn, "um_app") as conn:
        for mode in ("quarantine", "raise"):
            taken = probe(conn, "victim-s1", "victim-e1", mode)
            free = probe(conn, "nobody-s9", "nobody-e9", mode)
            assert taken == free == {"accepted": 1, "duplicates": 0, "rejected": 0,
                                     "errors": []}, (mode, taken, free)
    # The victim's rows are untouched.
    assert db.execute("SELECT count(*), sum(talked_time) FROM user_metrics.events"
                      ).fetchone() == (1, 5)


def test_public_has_no_rights_on_anything_of_the_extension(db):
    rows = db.execute("""
        SELECT 'function ' || p.oid::regprocedure
        FROM pg_proc p WHERE p.pronamespace = 'user_metrics'::regnamespace
          AND has_function_privilege('public', p.oid, 'EXECUTE')
        UNION ALL
        SELECT 'relation ' || c.oid::regclass
        FROM pg_class c, unnest(c.relacl) AS acl
        WHERE c.relnamespace = 'user_metrics'::regnamespace
          AND acl::text NOT LIKE (SELECT rolname FROM pg_roles r WHERE r.oid = c.relowner) || '=%'
          -- The one grant on a relation: reading the statistics view.
          AND NOT (c.relname = 'ingest_stats'
                   AND acl::text ~ '^user_metrics_(reader|admin)=r/user_metrics_owner$')
        UNION ALL
        SELECT 'schema usage' WHERE has_schema_privilege('public', 'user_metrics', 'USAGE')
    """).fetchall()
    assert rows == []
    # Besides the owner's own rights (their letters differ between versions), SELECT
    # for the reader and the admin roles, and nothing else.
    acl = db.execute("SELECT relacl::text[] FROM pg_class "
                     "WHERE oid = 'user_metrics.ingest_stats'::regclass").fetchone()[0]
    assert [a for a in acl if not a.startswith("user_metrics_owner=")] == [
        "user_metrics_reader=r/user_metrics_owner", "user_metrics_admin=r/user_metrics_owner"]


HOSTILE_SETUP = r"""
CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text);
-- Records that it ran, and tries to become superuser: that works only if it runs
-- with the rights of the extension's owner.
CREATE FUNCTION evil.trap(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evil.calls VALUES (what);
    BEGIN
        EXECUTE 'ALTER ROLE um_hostile SUPERUSER';
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
END $$;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('lower'); RETURN 'hijacked@x'; END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('now'); RETURN '1999-01-01'; END $$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('unnest'); RETURN; END $$;
CREATE FUNCTION evil.jsonb_array_elements(jsonb) RETURNS SETOF jsonb LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('jsonb_array_elements'); RETURN; END $$;
CREATE FUNCTION evil.current_setting(text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('current_setting'); RETURN 'hijacked'; END $$;
CREATE FUNCTION evil.pg_stat_get_live_tuples(oid) RETURNS bigint LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('pg_stat_get_live_tuples'); RETURN -42; END $$;
CREATE FUNCTION evil.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('text ='); RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE FUNCTION evil.int8_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('bigint ='); RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.int8_eq);
CREATE FUNCTION evil.add(double precision, double precision) RETURNS double precision
    LANGUAGE plpgsql AS $$ BEGIN PERFORM evil.trap('sum'); RETURN 1e9; END $$;
CREATE AGGREGATE evil.sum(double precision) (SFUNC = evil.add, STYPE = double precision);
CREATE FUNCTION evil.count_step(bigint) RETURNS bigint LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('count'); RETURN 1000; END $$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.count_step, STYPE = bigint, INITCOND = '0');
"""

HOSTILE_CALLS = [
    "SELECT * FROM user_metrics.aggregate_user_metrics()",
    "SELECT * FROM user_metrics.aggregate_user_metrics('ANA@EXAMPLE.COM')",
    "SELECT * FROM user_metrics.get_session_details('s-h1')",
    "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')",
    "SELECT (h - 'last_received_at' - 'users' - 'sessions' - 'events' - 'rejected') "
    "FROM user_metrics.health() AS h",
]


def hostile_batch(prefix):
    return [
        event(f"{prefix}-1", "Ana@Example.com", f"{prefix}-s1", "2026-11-20T09:00:00Z", 10,
              user__name="Ana"),
        event(f"{prefix}-2", "ana@example.com", f"{prefix}-s1", "2026-11-20T08:00:00Z", 5),
        event(f"{prefix}-3", "bob@example.com", f"{prefix}-s2", "2026-11-21T09:00:00Z", 7),
        event(f"{prefix}-4", "eve@example.com", f"{prefix}-s1", "2026-11-21T09:00:00Z", 1),
    ]


def test_a_hostile_search_path_changes_nothing(dsn, db):
    db.execute("DROP SCHEMA IF EXISTS evil CASCADE")
    db.execute("DROP ROLE IF EXISTS um_hostile")
    db.execute("CREATE ROLE um_hostile LOGIN")
    db.execute("GRANT user_metrics_writer, user_metrics_reader TO um_hostile")
    dbname = db.execute("SELECT current_database()").fetchone()[0]
    db.execute(f"GRANT CREATE ON DATABASE {dbname} TO um_hostile")

    # The same calls in a clean session first, on the same data.
    clean_summary = db.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb(hostile_batch("h")),)).fetchone()[0]
    clean = [db.execute(sql).fetchall() for sql in HOSTILE_CALLS]
    db.execute("TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, "
               "user_metrics.rejected_events, user_metrics.counters")

    with as_role(dsn, "um_hostile") as conn:
        conn.execute(HOSTILE_SETUP)
        conn.execute("SET search_path = evil, pg_catalog, public")
        # The traps are live in this session: its own SQL resolves to them.
        assert conn.execute("SELECT lower('ABC')").fetchone()[0] == "hijacked@x"
        conn.execute("TRUNCATE evil.calls")

        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb(hostile_batch("h")),)).fetchone()[0]
        hostile = [conn.execute(sql).fetchall() for sql in HOSTILE_CALLS]
        calls = conn.execute("SELECT what FROM evil.calls").fetchall()

    assert calls == []
    assert summary == clean_summary
    assert hostile == clean
    assert db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'um_hostile'").fetchone()[0] is False
    db.execute("DROP SCHEMA evil CASCADE")
    db.execute(f"REVOKE CREATE ON DATABASE {dbname} FROM um_hostile")


INJECTION = "'); DROP TABLE user_metrics.events; --"


def test_sql_in_every_text_field_is_stored_verbatim(db):
    # An address may hold ' | / * - (RFC 5322 atext), enough for a concatenation.
    email = "x'||current_user||'/**/--@example.com"
    payload = {
        "event_id": INJECTION,
        "user": {"email": email, "name": INJECTION},
        "session": {"id": INJECTION, "started_at": "2026-11-23T09:00:00Z",
                    "device": {"id": INJECTION, "type": INJECTION, "os": INJECTION,
                               "app_version": INJECTION, "model": INJECTION,
                               INJECTION: INJECTION}},
        "metrics": {"talked_time": 1},
    }
    summary = db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(payload),)).fetchone()[0]
    assert summary["accepted"] == 1
    row = db.execute("SELECT * FROM user_metrics.get_session_details(%s)", (INJECTION,)).fetchone()
    assert row[0] == INJECTION
    assert row[1] == email.lower()
    assert row[2] == INJECTION
    assert row[6] == payload["session"]["device"]
    assert db.execute("SELECT event_id FROM user_metrics.events").fetchone()[0] == INJECTION
    # Refused events keep the text too, in their payload and event_id, an address
    # with ( ) ; and spaces included.
    bad = dict(payload, metrics={"talked_time": -1})
    refused_address = dict(payload, user={"email": "x');DROP/**/TABLE/**/user_metrics.users;--@example.com"})
    db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([bad, refused_address]),))
    stored = db.execute("SELECT event_id, payload FROM user_metrics.rejected_events").fetchall()
    assert sorted(stored, key=repr) == sorted([(INJECTION, bad), (INJECTION, refused_address)], key=repr)
    tables = db.execute("SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_tables "
                        "WHERE schemaname = 'user_metrics'").fetchone()[0]
    assert tables == ["counters", "events", "forgotten_users", "ingest_counters", "rejected_events",
                      "sessions", "users"]
