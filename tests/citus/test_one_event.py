"""A call of one event on Citus (src/storage/store_one_routed.rs): its statements
each reach only the user's shard, the call commits on one worker in one phase,
and it stores what the general path stores."""
import re
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from citus import WORKERS, connect, drop_citus_database, fresh_citus_database
from test_plans import citus_scan, plan, task_count

DB = "um_citus_one_event"
KEY = -4242  # any bigint; the statements take the user key as it is
EMAIL = "Routed.User@Example.COM"


def event(event_id, session="one-1", started="2026-11-02T09:00:00Z", talked=1.25, **extra):
    body = {"user": {"email": EMAIL}, "session": {"id": session, "started_at": started},
            "metrics": {"talked_time": talked}}
    if event_id is not None:
        body["event_id"] = event_id
    for key, value in extra.items():
        section, field = key.split("__")
        body[section][field] = value
    return body


@pytest.fixture(scope="module")
def citus():
    url = fresh_citus_database(DB)
    with connect(url) as conn:
        conn.execute("CREATE EXTENSION user_metrics")
    with connect(url) as conn:
        conn.execute("SELECT user_metrics.distribute(4)")
    yield url
    drop_citus_database(DB)


@pytest.mark.parametrize("name, args", [
    ("one_user_find", (KEY, "s", "e")),
    ("one_user_add_user", (KEY, "a@b.c", None)),
    ("one_user_add_session", (KEY, "s", "2026-11-02T09:00:00Z", None, None, 1, "1.5", None, None, "0", 0)),
    ("one_user_add_event", (KEY, "e", 1, None, "1.5", None, None, None)),
    ("one_user_add_totals", (KEY, 1, "2026-11-02T09:00:00Z", None, None, 1, "1.5", None, None, "0", 0)),
])
def test_each_statement_of_a_one_event_call_reaches_one_shard(citus, name, args):
    with connect(citus) as conn:
        found = citus_scan(plan(conn, name, args))
    assert found is not None, f"{name} is not run by Citus"
    scan, _ = found
    assert task_count(scan) == 1


def test_the_erasure_check_runs_on_the_coordinator(citus):
    with connect(citus) as conn:
        assert citus_scan(plan(conn, "one_user_erased", (KEY,))) is None


def remote_commands(conn, payload):
    """What the coordinator sent to the workers for one ingest_metrics call, as
    (worker port, command), and the call's answer."""
    sent = []

    def keep(diag):
        if diag.message_primary and diag.message_primary.startswith("issuing "):
            port = re.search(r"@[\d.]+:(\d+)", diag.message_detail or "")
            sent.append((int(port.group(1)) if port else None, diag.message_primary[len("issuing "):]))

    conn.add_notice_handler(keep)
    conn.execute("SET citus.log_remote_commands = on")
    try:
        answer = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(payload),)).fetchone()[0]
    finally:
        conn.execute("RESET citus.log_remote_commands")
    return sent, answer


# Per case, the statements the call sends to the user's worker, in order (Citus
# wraps them in BEGIN and COMMIT): the user read first (which locks an existing
# session), then only the writes the event needs.
@pytest.mark.parametrize("case, payload, accepted, duplicates, statements", [
    ("a new user", event("one-a"), 1, 0,
     ["SELECT", "INSERT INTO user_metrics.users", "INSERT INTO user_metrics.sessions",
      "INSERT INTO user_metrics.events"]),
    ("an existing session", event("one-b", talked=2.5, session__ended_at="2026-11-02T10:00:00Z"), 1, 0,
     ["SELECT", "INSERT INTO user_metrics.events", "UPDATE user_metrics.sessions"]),
    ("a new session of a known user", event("one-c", session="one-2"), 1, 0,
     ["SELECT", "INSERT INTO user_metrics.sessions", "INSERT INTO user_metrics.events"]),
    ("a repeat", event("one-b"), 0, 1, ["SELECT"]),
    ("an event without event_id", event(None, session="one-2"), 1, 0,
     ["SELECT", "INSERT INTO user_metrics.events", "UPDATE user_metrics.sessions"]),
])
def test_a_one_event_call_commits_on_one_worker_in_one_phase(citus, case, payload, accepted, duplicates,
                                                             statements):
    with connect(citus) as conn:
        sent, answer = remote_commands(conn, payload)
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (accepted, duplicates, 0)
    ports = {port for port, _ in sent}
    assert len(ports) == 1 and ports <= {port for _, port in WORKERS}, (case, sent)
    commands = [command for _, command in sent]
    assert commands[0].startswith("BEGIN TRANSACTION") and commands[-1] == "COMMIT", (case, commands)
    # Shard names end in the shard's number: compare the statements by table.
    kinds = [re.sub(r"(user_metrics\.\w+?)_\d+\b.*", r"\1", c, flags=re.S) if not c.startswith("SELECT")
             else "SELECT" for c in commands[1:-1]]
    assert kinds == statements, (case, commands)


def test_what_the_calls_above_stored(citus):
    """The calls of the test above, in its order, leave exactly the totals, rows
    and counts that their events add up to."""
    with connect(citus) as conn:
        sessions = conn.execute(
            "SELECT s.client_session_id, s.started_at::text, s.ended_at::text, s.event_count, s.talked_time "
            "FROM user_metrics.sessions AS s JOIN user_metrics.users AS u ON u.user_key = s.user_key "
            "WHERE u.email = 'routed.user@example.com' ORDER BY 1").fetchall()
        assert sessions == [
            ("one-1", "2026-11-02 09:00:00+00", "2026-11-02 10:00:00+00", 2, Decimal("3.75")),
            ("one-2", "2026-11-02 09:00:00+00", None, 2, Decimal("2.50")),
        ]
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
        assert (health["users"], health["sessions"], health["events"]) == (1, 2, 4)
        stats = conn.execute("SELECT sum(calls), sum(accepted), sum(duplicates) "
                             "FROM user_metrics.ingest_stats").fetchone()
        assert stats == (5, 4, 1)


def test_an_erased_user_and_a_new_name_take_the_general_path(citus):
    """Cases the routed statements decline: the general path decides them, as it
    does for a batch."""
    with connect(citus) as conn:
        renamed = event("one-d", user__name="Another Name")
        _, answer = remote_commands(conn, renamed)
        assert answer["accepted"] == 1
        assert conn.execute("SELECT name FROM user_metrics.users WHERE email = 'routed.user@example.com'"
                            ).fetchone() == ("Another Name",)
        conn.execute("SELECT user_metrics.forget_user(%s)", (EMAIL,))
        # An event of a session that started before the erasure is dropped, and
        # answered as a repeat: no user, session or event comes back.
        answer = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(event("one-e")),)).fetchone()[0]
        assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (0, 1, 0), answer
        assert conn.execute("SELECT count(*) FROM user_metrics.users WHERE email = 'routed.user@example.com'"
                            ).fetchone() == (0,)
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
        assert (health["users"], health["sessions"], health["events"]) == (0, 0, 0)
