"""ALTER EXTENSION user_metrics UPDATE from every released version: the data and
the reports survive, and the upgraded schema is exactly what a fresh CREATE
EXTENSION of the current version makes. scripts/test.sh installs the frozen
release scripts (sql/releases/) next to the current one for this test."""
import json
import re
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import fresh_database
from events import event

ROOT = Path(__file__).resolve().parents[2]
CATALOG = (ROOT / "tests" / "upgrade" / "catalog.sql").read_text()
RELEASES = sorted(re.match(r"user_metrics--(.+)\.sql", p.name).group(1)
                  for p in (ROOT / "sql" / "releases").glob("user_metrics--*.sql"))
CURRENT = re.search(r'^version = "(.+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
# Data as an older version stored it, written directly: the new library cannot
# run the old SQL's queries against the old tables. Doubles whose sums depend on
# the order of addition; addresses that 0.2.0 split into two users (NFC and NFD
# ë; final and medial sigma).
ZOE_NFC, ZOE_NFD = "zo\u00eb@x", "zoe\u0308@x"
OLD_DATA = [
    ("INSERT INTO user_metrics.users (email, name) VALUES "
     "('ana@x', 'Ana'), ('bob@x', NULL), (%s, 'Zoë'), (%s, 'Zoë Lima'), "
     "('οδος@x', NULL), ('οδοσ@x', 'Odos')", (ZOE_NFC, ZOE_NFD)),
    ("INSERT INTO user_metrics.sessions (client_session_id, user_id, started_at, event_count, "
     "talked_time, sentiment_sum, sentiment_count) "
     "SELECT s.id, u.id, '2026-11-20T10:00:00Z', 0, 0, 0, 0 "
     "FROM (VALUES ('s1', 'ana@x'), ('s2', 'bob@x'), ('s3', %s), ('s4', %s), "
     "             ('s5', 'οδος@x'), ('s6', 'οδοσ@x')) AS s (id, email) "
     "JOIN user_metrics.users AS u ON u.email = s.email", (ZOE_NFC, ZOE_NFD)),
    ("INSERT INTO user_metrics.events (event_id, session_id, recorded_at, talked_time, voice_sentiment) "
     "SELECT e.id, s.id, '2026-11-20T10:00:00Z', e.talked, e.sentiment "
     "FROM (VALUES ('e1', 's1', 0.1::float8, 0.1::float8), ('e2', 's1', 0.2, 0.2), "
     "             ('e3', 's1', 0.30000000000000004, NULL), ('e4', 's2', 7, -0.5), "
     "             ('e5', 's3', 1, NULL), ('e6', 's4', 2, NULL), ('e7', 's5', 1.5, NULL), "
     "             ('e8', 's6', 0.5, NULL), (NULL, 's6', 1e-10, NULL)) "
     "     AS e (id, session, talked, sentiment) "
     "JOIN user_metrics.sessions AS s ON s.client_session_id = e.session", ()),
    # 0.2.0 kept float running totals: deliberately off in the last digits.
    ("UPDATE user_metrics.sessions AS s SET talked_time = t.talked + 1e-12, event_count = t.n, "
     "sentiment_sum = t.sentiment, sentiment_count = t.ns "
     "FROM (SELECT session_id, sum(talked_time) AS talked, count(*) AS n, "
     "             coalesce(sum(voice_sentiment), 0) AS sentiment, count(voice_sentiment) AS ns "
     "      FROM user_metrics.events GROUP BY session_id) AS t WHERE t.session_id = s.id", ()),
    ("INSERT INTO user_metrics.rejected_events (batch_index, event_id, error_code, error_message, payload) "
     "VALUES (3, 'bad', 'invalid_timestamp', 'session.started_at: time has no UTC offset', "
     "'{\"event_id\": \"bad\"}')", ()),
]
REPORTS_AFTER = [
    ("SELECT email, name, total_talked_time::text, session_count "
     "FROM user_metrics.aggregate_user_metrics()",
     [("ana@x", "Ana", "0.6", 1), ("bob@x", None, "7", 1),
      (ZOE_NFC, "Zoë Lima", "3", 2), ("οδοσ@x", "Odos", "2.0", 2)]),
    ("SELECT talked_time::text, avg_voice_sentiment FROM user_metrics.get_session_details('s1')",
     [("0.6", 0.15)]),
    ("SELECT event_id, talked_time::text FROM user_metrics.events ORDER BY event_id NULLS LAST",
     [("e1", "0.1"), ("e2", "0.2"), ("e3", "0.3"), ("e4", "7"), ("e5", "1"),
      ("e6", "2"), ("e7", "1.5"), ("e8", "0.5"), (None, "0")]),
    ("SELECT batch_index, error_code, payload FROM user_metrics.rejected_events ORDER BY id",
     [(3, "invalid_timestamp", {"event_id": "bad"})]),
]
COUNTS = ("SELECT (SELECT count(*) FROM user_metrics.users), "
          "(SELECT count(*) FROM user_metrics.sessions), "
          "(SELECT count(*) FROM user_metrics.events), "
          "(SELECT count(*) FROM user_metrics.rejected_events)")
HEALTH_COUNTS = ("SELECT (h->>'users')::bigint, (h->>'sessions')::bigint, "
                 "(h->>'events')::bigint, (h->>'rejected')::bigint FROM user_metrics.health() AS h")


def catalog(conn):
    return [row[0] for row in conn.execute(CATALOG)]


def test_every_release_has_an_update_path_to_the_current_version(db):
    assert RELEASES, "sql/releases/ holds the released install scripts"
    assert CURRENT not in RELEASES, "the current version is not released yet"
    paths = dict(db.execute("SELECT source, path FROM pg_extension_update_paths('user_metrics') "
                            "WHERE target = %s", (CURRENT,)).fetchall())
    for old in RELEASES:
        assert paths.get(old), f"no ALTER EXTENSION UPDATE path from {old} to {CURRENT}"


# The releases whose tables OLD_DATA writes rows into (0.2.0's shape; 0.1.0's
# is the same). Later releases get theirs through their own functions.
LEGACY = [old for old in RELEASES if old in ("0.1.0", "0.2.0")]
# Each of them updated in one step; 0.2.0 also in the two steps that keep calls
# from failing under load (its gates first: README, "Upgrading").
UPDATES = [(old, None) for old in LEGACY] + [("0.2.0", "0.2.0-gated")]


@pytest.mark.parametrize("old, gated", UPDATES)
def test_update_keeps_data_and_matches_a_fresh_install(dsn, old, gated):
    upgraded = fresh_database(dsn, "user_metrics_upgraded", with_extension=False)
    with psycopg.connect(upgraded, autocommit=True) as conn:
        conn.execute(f"CREATE EXTENSION user_metrics VERSION '{old}'")
        conn.execute("SET TimeZone = 'UTC'")
        for sql, args in OLD_DATA:
            conn.execute(sql, args)
        assert conn.execute(COUNTS).fetchone() == (6, 6, 9, 1)

        if gated:
            conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{gated}'")
            # The gates run the old version's code meanwhile (0.2.0's health() estimated).
            assert conn.execute("SELECT user_metrics.health() ? 'counts_are_estimates'").fetchone()[0]
            assert conn.execute("SELECT session_count FROM user_metrics.aggregate_user_metrics('bob@x')"
                                ).fetchall() == [(1,)]
        conn.execute("ALTER EXTENSION user_metrics UPDATE")
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                            ).fetchone()[0] == CURRENT
        # Every event and session kept, converted exactly; split users merged.
        for sql, expected in REPORTS_AFTER:
            assert conn.execute(sql).fetchall() == expected, sql
        assert conn.execute(COUNTS).fetchone() == (4, 6, 9, 1)
        assert conn.execute(HEALTH_COUNTS).fetchone() == (4, 6, 9, 1)

        # The upgraded installation works, old data included: the merged user takes
        # new events in any form of the address, and old events are duplicates.
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([
            event("e9", "ZOË@X", "s3", "2026-11-20T08:00:00Z", 1.25),
            event("e1", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.1),
        ]),)).fetchone()[0]
        assert (summary["accepted"], summary["duplicates"]) == (1, 1), summary
        assert conn.execute("SELECT total_talked_time::text FROM "
                            "user_metrics.aggregate_user_metrics(%s)", (ZOE_NFD,)).fetchone()[0] == "4.25"
        assert conn.execute(HEALTH_COUNTS).fetchone() == conn.execute(COUNTS).fetchone()
        upgraded_catalog = catalog(conn)

    fresh = fresh_database(dsn, "user_metrics_fresh", with_extension=False)
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION user_metrics")
        fresh_catalog = catalog(conn)

    assert upgraded_catalog == fresh_catalog, "\n".join(
        [f"- {line}" for line in upgraded_catalog if line not in fresh_catalog]
        + [f"+ {line}" for line in fresh_catalog if line not in upgraded_catalog])
    assert len(fresh_catalog) > 40, "the catalog dump covers the extension's objects"


@pytest.mark.parametrize("old", ["0.2.0", "0.3.0"])
def test_the_gates_come_off_leaving_the_release_as_it_was(dsn, old):
    url = fresh_database(dsn, "user_metrics_gates", with_extension=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE EXTENSION user_metrics VERSION '{old}'")
        before = catalog(conn)
        conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{old}-gated'")
        assert catalog(conn) != before
        conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{old}'")
        after = catalog(conn)
    assert after == before, "\n".join([f"- {line}" for line in before if line not in after]
                                      + [f"+ {line}" for line in after if line not in before])


def test_calls_waiting_at_the_gates_run_the_new_version_once_the_update_commits(dsn):
    url = fresh_database(dsn, "user_metrics_gates_wait", with_extension=False)
    with psycopg.connect(url, autocommit=True) as dba:
        dba.execute("CREATE EXTENSION user_metrics VERSION '0.2.0'")
        dba.execute("SET TimeZone = 'UTC'")
        for sql, args in OLD_DATA:
            dba.execute(sql, args)
        dba.execute("ALTER EXTENSION user_metrics UPDATE TO '0.2.0-gated'")
        calls = {
            "ingest": ("SELECT user_metrics.ingest_metrics(%s)",
                       (Jsonb([event("e1", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.1),
                               event("w1", "ana@x", "s1", "2026-11-20T10:00:00Z", 0.25)]),)),
            "totals": ("SELECT email, total_talked_time FROM user_metrics.aggregate_user_metrics('ana@x')", ()),
            "session": ("SELECT talked_time, event_count FROM user_metrics.get_session_details('s1')", ()),
            "health": ("SELECT user_metrics.health() ? 'counts_are_estimates'", ()),
        }
        results = {}

        def call(name):
            with psycopg.connect(url, autocommit=True) as conn:
                sql, args = calls[name]
                results[name] = conn.execute(sql, args).fetchall()

        with dba.transaction():
            dba.execute("ALTER EXTENSION user_metrics UPDATE")
            threads = [threading.Thread(target=call, args=(name,)) for name in calls]
            for t in threads:
                t.start()
            # Every call waits at its gate while the update is not committed.
            deadline = time.monotonic() + 30
            while dba.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                              ).fetchone()[0] < len(calls):
                assert time.monotonic() < deadline, "the calls did not reach the gates"
                time.sleep(0.05)
            assert not results
        for t in threads:
            t.join()
        # Then each ran 0.3.0's code, given in 0.2.0's result types: exact totals
        # (0.2.0's were off by 1e-12), before or after the ingestion, which ran at
        # the same moment.
        assert results["ingest"][0][0]["accepted"] == 1 and results["ingest"][0][0]["duplicates"] == 1
        assert results["totals"] in ([("ana@x", 0.6)], [("ana@x", 0.85)])
        assert results["session"] in ([(0.6, 3)], [(0.85, 4)])
        assert results["health"] == [(False,)]


def test_the_update_ends_with_the_role_blocks_of_create_extension():
    """The latest upgrade script checks the roles and hands every object to the owner
    role exactly as CREATE EXTENSION does: the same two blocks, word for word."""
    after = (ROOT / "sql" / "after_functions.sql").read_text()
    update = sorted((ROOT / "sql").glob(f"user_metrics--*--{CURRENT}.sql"))
    assert len(update) == 1, update
    script = update[0].read_text()
    for tag in ("$roles$", "$owner$"):
        block = re.search(rf"DO {re.escape(tag)}.*?{re.escape(tag)};", after, re.S).group(0)
        assert block in script, f"{update[0].name} lacks the {tag} block of sql/after_functions.sql"


# What 0.3.0 stored, read back the same way before and after the update.
ROWS_030 = {
    "users": "SELECT email, name, user_key FROM user_metrics.users ORDER BY user_key",
    "sessions": "SELECT s.*::text FROM user_metrics.sessions AS s ORDER BY user_key, id",
    "events": "SELECT e.*::text FROM user_metrics.events AS e ORDER BY user_key, id",
    "totals": "SELECT r::text FROM user_metrics.aggregate_user_metrics() AS r",
    "weekly": "SELECT r::text FROM user_metrics.generate_weekly_report('2026-11-23', 'Europe/Berlin') AS r",
    "forgotten": "SELECT user_key, users, sessions, events FROM user_metrics.forgotten_users",
}


@pytest.mark.parametrize("gated", [None, "0.3.0-gated"])
def test_update_from_030_keeps_every_row_and_keeps_each_invalid_event_once(dsn, gated):
    sample = json.loads((ROOT / "sample" / "events.json").read_text())
    invalid = [event(f"old-bad-{n}", "ana@x", "s1", "2026-11-20T10:00:00", 1) for n in range(3)]
    url = fresh_database(dsn, "user_metrics_upgraded_030", with_extension=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION user_metrics VERSION '0.3.0'")
        # 0.3.0 stores the sample, and keeps one row per arrival of an invalid
        # event: old-bad-0 three times, old-bad-1 twice, old-bad-2 once (and the sample's own).
        for batch in (sample, invalid, invalid[:2], invalid[:1]):
            conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(batch),))
        conn.execute("SELECT user_metrics.forget_user(%s)", (sample[0]["user"]["email"],))
        before = {name: conn.execute(sql).fetchall() for name, sql in ROWS_030.items()}
        quarantined = conn.execute("SELECT payload::text, count(*), min(id) FROM "
                                   "user_metrics.rejected_events GROUP BY 1").fetchall()
        assert sorted(n for payload, n, _ in quarantined if '"old-bad-' in payload) == [1, 2, 3]

        if gated:
            conn.execute(f"ALTER EXTENSION user_metrics UPDATE TO '{gated}'")
            # The gates run 0.3.0's code meanwhile.
            assert conn.execute("SELECT user_metrics.health()->>'version'").fetchone()[0] == gated
            assert conn.execute(ROWS_030["totals"]).fetchall() == before["totals"]
        conn.execute("ALTER EXTENSION user_metrics UPDATE")
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                            ).fetchone()[0] == CURRENT
        assert {name: conn.execute(sql).fetchall() for name, sql in ROWS_030.items()} == before
        # One row per distinct invalid event, the first arrival's id, every arrival counted.
        merged = conn.execute("SELECT payload::text, times_received, id FROM "
                              "user_metrics.rejected_events").fetchall()
        assert sorted(merged) == sorted(quarantined)
        assert conn.execute(HEALTH_COUNTS).fetchone() == conn.execute(COUNTS).fetchone()

        # The updated installation goes on: old events are duplicates, an invalid
        # event sent again is counted on its row.
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb(sample[1:4] + invalid[:1]),)).fetchone()[0]
        assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (0, 3, 1)
        assert conn.execute("SELECT times_received FROM user_metrics.rejected_events "
                            "WHERE event_id = 'old-bad-0'").fetchone()[0] == 4
        assert conn.execute(HEALTH_COUNTS).fetchone() == conn.execute(COUNTS).fetchone()
        upgraded_catalog = catalog(conn)

    fresh = fresh_database(dsn, "user_metrics_fresh", with_extension=True)
    with psycopg.connect(fresh, autocommit=True) as conn:
        fresh_catalog = catalog(conn)
    assert upgraded_catalog == fresh_catalog, "\n".join(
        [f"- {line}" for line in upgraded_catalog if line not in fresh_catalog]
        + [f"+ {line}" for line in fresh_catalog if line not in upgraded_catalog])
