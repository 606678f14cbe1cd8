"""forget_user over a real connection: afterwards no column of any table of the
schema, and no line of a pg_dump, holds the erased address or name, in any form;
the audit row holds neither; the user's old events sent again leave no trace."""
import json
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from clusters import run_tool
from events import event

ROOT = Path(__file__).resolve().parents[2]
ADDRESS, NAME = "zoë.lima@example.com", "Zoë Lima Erasable"
FORMS = [ADDRESS, ADDRESS.upper(), "zoe\u0308.lima@example.com"]  # NFC, upper case, NFD
ZOE = [
    event("z1", FORMS[0], "s-z1", "2026-11-16T09:00:00Z", 100, user__name=NAME),
    event("z2", FORMS[1], "s-z2", "2026-11-17T09:00:00Z", 50),
    event("z3", FORMS[2], "s-z3", "2026-11-18T09:00:00Z", 25, session__device={"owner": FORMS[1]}),
    # Quarantined for other reasons, the address inside.
    event("z-bad", FORMS[2], "s-z4", "2026-11-18T09:00:00", 5),
    {"event_id": "z-odd", "user": {"email": "ana@example.com"}, "note": FORMS[1],
     "session": {"id": "s-z5", "started_at": "2026-11-18T09:00:00Z"}, "metrics": {"talked_time": 1}},
    FORMS[0],
]


def holders(conn, needles):
    """(table, needle) for every row of every table of the schema whose text holds
    a needle, compared case-insensitively and in NFC."""
    tables = [r[0] for r in conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class AS c "
        "WHERE c.relnamespace = 'user_metrics'::regnamespace AND c.relkind = 'r'")]
    assert len(tables) >= 6, tables
    found = []
    for table in tables:
        for needle in needles:
            n = conn.execute(f"SELECT count(*) FROM {table} AS t "
                             "WHERE normalize(lower(t::text), NFC) LIKE '%%' || normalize(lower(%s), NFC) || '%%'",
                             (needle,)).fetchone()[0]
            if n:
                found.append((table, needle))
    return found


def test_forget_user_leaves_no_trace_of_the_address_or_the_name(dsn, db):
    events = json.loads((ROOT / "sample" / "events.json").read_text())
    db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(events + ZOE),))
    assert holders(db, [ADDRESS, NAME]), "the data set holds the address before the erasure"
    health_before = db.execute("SELECT user_metrics.health()").fetchone()[0]

    removed = db.execute("SELECT user_metrics.forget_user(%s)", (FORMS[1],)).fetchone()[0]
    assert {k: removed[k] for k in ("users", "sessions", "events", "quarantined")} == \
        {"users": 1, "sessions": 3, "events": 3, "quarantined": 3}
    # Every table, every column, both the address and the name: nothing.
    assert holders(db, [ADDRESS, NAME, "zoe\u0308"]) == []
    # The counts follow, and everyone else is untouched.
    health = db.execute("SELECT user_metrics.health()").fetchone()[0]
    assert (health["users"], health["events"], health["rejected"]) == \
        (health_before["users"] - 1, health_before["events"] - 3, health_before["rejected"] - 3)
    assert health["events"] == db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]

    # pg_dump of the database holds neither.
    dbname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    dump = run_tool(dsn, "pg_dump", dbname).stdout
    assert "COPY user_metrics.forgotten_users" in dump and "ana.lima@example.com" in dump, \
        "the dump holds the extension's rows"
    for needle in (ADDRESS, NAME, ADDRESS.upper(), FORMS[2]):
        assert needle.lower() not in dump.lower(), needle

    # Her old events sent again are dropped, answered as events sent again, and
    # leave nothing behind.
    again = db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(ZOE[:3]),)).fetchone()[0]
    assert again == {"accepted": 0, "duplicates": 3, "rejected": 0, "errors": []}
    assert holders(db, [ADDRESS, NAME]) == []


def test_a_writer_cannot_tell_an_erased_users_old_events_from_events_sent_again(dsn, db):
    """A writer (the app's login role) sends the old events of a user who was
    erased, and those of a user who was not, twice each, in transactions it rolls
    back or commits: every answer is what sending an event again gives, so it
    learns neither that the first user was erased nor when."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS um_forget_writer")
        conn.execute("CREATE ROLE um_forget_writer LOGIN IN ROLE user_metrics_writer")
    # One event with an event_id and one without (null: absent), for each user.
    kept = [event("k1", "kim@example.com", "s-k1", "2026-11-16T09:00:00Z", 10),
            event(None, "kim@example.com", "s-k1", "2026-11-16T09:00:00Z", 2)]
    erased = [event("z1", FORMS[0], "s-z1", "2026-11-16T09:00:00Z", 100),
              event(None, FORMS[0], "s-z1", "2026-11-16T09:00:00Z", 2)]
    db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(kept + erased),))
    db.execute("SELECT user_metrics.forget_user(%s)", (FORMS[0],))
    events_before = db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]

    writer = psycopg.conninfo.make_conninfo(dsn, user="um_forget_writer")
    with psycopg.connect(writer) as conn:
        answers = {}
        for name, events in (("kept", kept), ("erased", erased)):
            for on_error in ("quarantine", "raise"):
                with conn.transaction(force_rollback=True):
                    answers[name, on_error] = conn.execute(
                        "SELECT user_metrics.ingest_metrics(%s, %s)", (Jsonb(events), on_error)).fetchone()[0]
    for on_error in ("quarantine", "raise"):
        assert answers["kept", on_error] == answers["erased", on_error] == \
            {"accepted": 1, "duplicates": 1, "rejected": 0, "errors": []}
    # Dropped, not stored: the event without an event_id is a new row for Kim
    # only, had the transaction committed.
    with psycopg.connect(writer, autocommit=True) as conn:
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(erased),))
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == events_before
    assert holders(db, [ADDRESS]) == []


def test_only_an_admin_may_forget(dsn, db):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS um_forget_reader")
        conn.execute("CREATE ROLE um_forget_reader LOGIN IN ROLE user_metrics_reader, user_metrics_writer")
    reader = psycopg.conninfo.make_conninfo(dsn, user="um_forget_reader")
    with psycopg.connect(reader, autocommit=True) as conn:
        try:
            conn.execute("SELECT user_metrics.forget_user('ana@example.com')")
            raise AssertionError("a reader and writer could erase a user")
        except psycopg.errors.InsufficientPrivilege:
            pass
