"""forget_user over a real connection: afterwards no column of any table of the
schema, and no line of a pg_dump, holds the erased address or name, in any form;
the audit row holds neither; the user's old events sent again leave no trace.
The README's query finds mentions in other users' rows; its steps for what stays
on disk leave the address in no file of the database nor of pg_wal."""
import json
import os
import re
import unicodedata
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from clusters import extra_port, fresh_cluster, fresh_database, main_cluster, run_tool
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


def readme_section(title):
    readme = (ROOT / "README.md").read_text()
    return readme.split(f"\n{title}\n", 1)[1].split("\n#", 1)[0]


def sql_blocks(text):
    return re.findall(r"```sql\n(.*?)```", text, re.S)


def test_the_readme_query_finds_mentions_in_other_users_rows(db):
    db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([
        event("a1", "ana@example.com", "s-a1", "2026-11-16T09:00:00Z", 1),
        event("b1", "bob@example.com", "s-b1", "2026-11-16T09:00:00Z", 1,
              user__name="Bob, for ANA@example.com", session__device={"shared_with": "ana@example.com"}),
        event("c1", "carl@example.com", "ana@example.com-phone", "2026-11-16T09:00:00Z", 1),
        event("ana@example.com#1", "dora@example.com", "s-d1", "2026-11-16T09:00:00Z", 1),
        event("e1", "email=ana@example.com", "s-e1", "2026-11-16T09:00:00Z", 1),
        event("f1", "fred@example.com", "s-f1", "2026-11-16T09:00:00Z", 1),
    ]),))
    section = readme_section("### `forget_user(email text) RETURNS jsonb`: the right to erasure")
    [query] = [block for block in sql_blocks(section.split("#### ", 1)[0]) if "strpos" in block]
    removed = db.execute("SELECT user_metrics.forget_user('ana@example.com')").fetchone()[0]
    assert removed["users"] == 1
    found = sorted(db.execute(query).fetchall())
    assert found == [("events", "dora@example.com"), ("sessions", "bob@example.com"),
                     ("sessions", "carl@example.com"), ("users", "bob@example.com"),
                     ("users", "email=ana@example.com")], found


# Zoë, erased in the test below, in the forms an app sends: stored, in the
# quarantine in every form forget_user must recognise, and in the statistics.
ERASED = "zoë.erasable@example.com"
ERASED_NAME = "Zoë Lima-Erasable"
ERASED_FORMS = [ERASED, ERASED.upper(), unicodedata.normalize("NFD", ERASED)]
OTHER = "ana.lima@example.com"


def zoe_events():
    started = "2026-11-16T09:00:00Z"
    return [
        event("z1", ERASED_FORMS[0], "s-z1", started, 10, user__name=ERASED_NAME,
              session__device={"owner": ERASED_FORMS[1]}),
        event("z2", ERASED_FORMS[2], "s-z2", started, 5),
        event("z-padded", f"  {ERASED_FORMS[1]} ", "s-z3", started, 1),
        {"event_id": "z-sentence", "note": f"call {ERASED_NAME} <{ERASED_FORMS[2]}> back"},
        {"event_id": "z-key", "session": {"device": {ERASED_FORMS[1]: "owner"}}},
    ]


def files_holding(datadir, oid, needles):
    """Every file under the database's directory and pg_wal holding one of the
    needles' UTF-8 bytes, with the needle."""
    found = set()
    for top in (datadir / "base" / str(oid), datadir / "pg_wal"):
        for root, _, names in os.walk(top):
            for name in names:
                path = Path(root) / name
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue  # a file removed while the scan ran
                for needle in needles:
                    if needle.encode() in data:
                        found.add((str(path.relative_to(datadir)), needle))
    return found


def test_after_the_readme_steps_no_file_of_the_database_holds_the_address(tmp_path):
    steps = sql_blocks(readme_section("#### What stays on disk, and how to remove it"))
    assert len(steps) == 2 and "wal_recycle" in steps[0] and "VACUUM (FULL" in steps[1], steps
    name, _ = main_cluster()
    with fresh_cluster(f"{name}-erase", extra_port(7)) as server:
        url = fresh_database(server, "erasure")
        needles = ERASED_FORMS + [ERASED_NAME]
        with psycopg.connect(url, autocommit=True) as conn:
            # A compressed page or value would hide bytes from the scan, not from a reader.
            assert conn.execute("SHOW wal_compression").fetchone()[0] == "off"
            datadir = Path(conn.execute("SHOW data_directory").fetchone()[0])
            oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
            sample = json.loads((ROOT / "sample" / "events.json").read_text())
            conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(sample + zoe_events()),))
            conn.execute("ANALYZE")
            conn.execute("CHECKPOINT")
            table_files = {t: conn.execute("SELECT pg_relation_filepath(%s)", (t,)).fetchone()[0]
                           for t in ("user_metrics.users", "user_metrics.rejected_events",
                                     "pg_catalog.pg_statistic")}
            before = {path for path, _ in files_holding(datadir, oid, needles)}
            # The scan sees the address where it is: the tables, the statistics, the WAL.
            assert set(table_files.values()) <= before, (table_files, before)
            assert any(path.startswith("pg_wal/") for path in before), before

            removed = conn.execute("SELECT user_metrics.forget_user(%s)", (ERASED_FORMS[1],)).fetchone()[0]
            assert (removed["users"], removed["sessions"], removed["events"], removed["quarantined"]) \
                == (1, 2, 2, 3), removed
            # A plain VACUUM leaves the bytes in the table files.
            conn.execute("VACUUM user_metrics.users, user_metrics.sessions, user_metrics.events, "
                         "user_metrics.rejected_events")
            conn.execute("CHECKPOINT")
            after_vacuum = {path for path, _ in files_holding(datadir, oid, needles)}
            assert after_vacuum & {table_files["user_metrics.users"], table_files["user_metrics.rejected_events"]}

        # The README's steps, as written, statement by statement as psql runs a file.
        for n, block in enumerate(steps):
            script = tmp_path / f"step-{n}.sql"
            script.write_text(block)
            run_tool(url, "psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                     "--dbname=erasure", f"--file={script}")

        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM user_metrics.users WHERE email = %s",
                                (OTHER,)).fetchone()[0] == 1
        assert files_holding(datadir, oid, needles) == set()
        # Everyone else's data is still there, and the scan still sees it.
        assert files_holding(datadir, oid, [OTHER])
