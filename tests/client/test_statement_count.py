"""How many statements one ingest_metrics call runs inside PostgreSQL, counted by
pg_stat_statements (track = all) on a cluster of its own that preloads it: at most
4 for a call whose events are all stored (new or added to existing sessions), at
most 5 for one that also refuses or repeats events, for one event and for 1,000
(README, Performance); and none for a call of one event that is stored or
repeated, new user or not, new session or not (its rows are read and written
without a statement: store_one_in_place.rs), but for a backend's first call,
which inserts its counters rows, and for a table with a trigger of a DBA's,
where the call takes its one statement (store_one.sql). Foreign-key checks, which PostgreSQL runs as statements of
their own, are counted apart: they are the price of the constraints, not of the
call's shape."""
import subprocess

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import CLUSTER_SH, RUN_DIR, extra_port, fresh_cluster, main_cluster
from events import event

STARTED = "2026-11-20T10:00:00Z"


@pytest.fixture(scope="module")
def counted():
    """An autocommit connection to a database with user_metrics, on a cluster
    that counts every statement at every level."""
    name = f"{main_cluster()[0]}-statements"
    port = extra_port(5)
    with fresh_cluster(name, port) as dsn:
        with open(RUN_DIR / name / "data" / "postgresql.conf", "a") as conf:
            conf.write("shared_preload_libraries = 'pg_stat_statements'\n"
                       "pg_stat_statements.track = all\n")
        subprocess.run([CLUSTER_SH, "stop", name], check=True)
        subprocess.run([CLUSTER_SH, "start", name, str(port)], check=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute("CREATE EXTENSION user_metrics")
            yield conn


def statements_of(conn, events, **kwargs):
    """(statements, foreign-key checks) that one call with these events runs, and
    its summary."""
    conn.execute("SELECT pg_stat_statements_reset()")
    summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(events),)).fetchone()[0]
    rows = conn.execute(
        r"SELECT query ~ '^SELECT \S+ FROM ONLY ' AS fk_check, sum(calls)::int "
        "FROM pg_stat_statements "
        "WHERE NOT toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "GROUP BY 1").fetchall()
    counts = dict(rows)
    for key, value in kwargs.items():
        assert summary[key] == value, summary
    return counts.get(False, 0), counts.get(True, 0), summary


def one(n, email, session, **extra):
    return event(f"e-{n}", email, session, STARTED, 1.5, **extra)


def batch(prefix, n, users, per_session):
    """n events of `users` users, `per_session` in each session."""
    return [event(f"{prefix}-{i}", f"u{i // per_session % users}@example.com", f"{prefix}-s{i // per_session}",
                  STARTED, 2.25, user__name=f"U {i // per_session % users}") for i in range(n)]


def test_one_event_per_call(counted):
    # A new user in a new session, the connection's first call: no statement for
    # the event; one for the insert of the backend's rows of counters and
    # statistics, which later calls change in place.
    statements, fk, _ = statements_of(counted, [one(1, "ana@example.com", "s-1", user__name="Ana")],
                                      accepted=1)
    print(f"one event, new user and session, first call: {statements} statements, {fk} foreign-key checks")
    assert statements == 1
    assert fk == 2
    statements, fk, _ = statements_of(counted, [one(10, "bo@example.com", "s-1")], accepted=1)
    print(f"one event, new user and session: {statements} statements, {fk} foreign-key checks")
    assert statements == 0
    # An existing user in a new session, then in an existing one.
    statements, _, _ = statements_of(counted, [one(2, "ana@example.com", "s-2")], accepted=1)
    print(f"one event, new session: {statements} statements")
    assert statements == 0
    statements, _, _ = statements_of(counted, [one(3, "ana@example.com", "s-2")], accepted=1)
    print(f"one event, existing session: {statements} statements")
    assert statements == 0
    # A new name for the user: not a case for the writes without a statement, nor
    # for the one statement, which writes nothing and hands the call to the
    # general path (lookup, users, store, counters).
    statements, _, _ = statements_of(counted, [one(4, "ana@example.com", "s-2", user__name="Ana L")],
                                     accepted=1)
    print(f"one event, a new name: {statements} statements")
    assert statements <= 5
    # A repeat, and an invalid event.
    statements, _, _ = statements_of(counted, [one(4, "ana@example.com", "s-2")], duplicates=1)
    print(f"one event, a repeat: {statements} statements")
    assert statements == 0
    statements, _, _ = statements_of(counted, [one(5, "ana@example.com", "s-2", metrics__talked_time=-1)],
                                     rejected=1)
    print(f"one event, invalid: {statements} statements")
    assert statements <= 2


def test_one_event_with_a_dba_trigger_takes_the_statement(counted):
    # A trigger only a statement runs: the call takes the one statement, and the
    # trigger sees the event.
    counted.execute("CREATE TABLE public.audit (event_id text)")
    # Triggers run as the role that writes the table: the extension's owner.
    counted.execute("GRANT INSERT ON public.audit TO PUBLIC")
    counted.execute("CREATE FUNCTION public.audit_event() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN INSERT INTO public.audit VALUES (NEW.event_id); RETURN NEW; END$$")
    counted.execute("CREATE TRIGGER audit AFTER INSERT ON user_metrics.events "
                    "FOR EACH ROW EXECUTE FUNCTION public.audit_event()")
    try:
        statements_of(counted, [one(20, "cy@example.com", "s-1")], accepted=1)
        statements, _, _ = statements_of(counted, [one(21, "cy@example.com", "s-1")], accepted=1)
        print(f"one event, a trigger on events: {statements} statements")
        # The statement, and the trigger's insert.
        assert statements == 2
        assert counted.execute("SELECT array_agg(event_id ORDER BY event_id) FROM public.audit"
                               ).fetchone()[0] == ["e-20", "e-21"]
    finally:
        counted.execute("DROP TRIGGER audit ON user_metrics.events")
        counted.execute("DROP TABLE public.audit")
        counted.execute("DROP FUNCTION public.audit_event()")
    statements, _, _ = statements_of(counted, [one(22, "cy@example.com", "s-1")], accepted=1)
    assert statements == 0


def test_a_thousand_events_per_call(counted):
    # New users and sessions, about 20 events per session.
    statements, fk, _ = statements_of(counted, batch("a", 1000, 100, 20), accepted=1000)
    print(f"1,000 events, new users and sessions: {statements} statements, {fk} foreign-key checks")
    assert statements <= 4
    # The same users and sessions again: every event added to an existing session.
    again = [dict(e, event_id="b" + e["event_id"]) for e in batch("a", 1000, 100, 20)]
    statements, _, _ = statements_of(counted, again, accepted=1000)
    print(f"1,000 events, existing sessions: {statements} statements")
    assert statements <= 4
    # Half of them new sessions, half existing, with repeats and invalid events.
    mixed = batch("c", 500, 100, 20) + again[:450]
    mixed += [one(9000 + i, "bad@example.com", "s-bad", metrics__talked_time=-1) for i in range(50)]
    statements, _, summary = statements_of(counted, mixed, accepted=500, duplicates=450, rejected=50)
    print(f"1,000 events, mixed: {statements} statements")
    assert statements <= 5
