"""A duplicate key inside a call, and the HINT that says what to do.

An identity sequence behind its table's ids is what a restore of single tables
with pg_dump -t leaves (it does not carry the sequences' positions). Every call
that then needs a new id the table holds fails with 23505; its HINT names
user_metrics.resync_sequences(), after which the same call goes through. A
data-only dump of the whole schema, which README, "Backups" gives as the other
way, carries the positions.

A duplicate in a copy of a key that ON CONFLICT settles is what REINDEX ...
CONCURRENTLY can cause when two calls store the same new key at once (README,
"REINDEX"); its HINT says to call again."""
import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import contents, drop_database, fresh_database, run_tool
from events import event

HINT = "SELECT * FROM user_metrics.resync_sequences()"
INGEST = "SELECT user_metrics.ingest_metrics(%s)"

STORED = [
    event("s1", "ana@example.com", "ana-1", "2026-11-20T09:00:00Z", 10, user__name="Ana"),
    event("s2", "ana@example.com", "ana-1", "2026-11-20T09:00:00Z", 2),
    event("s3", "bob@example.com", "bob-1", "2026-11-21T10:00:00Z", 7),
    event("s4", "cy@example.com", "cy-1", "2026-11-22T10:00:00Z", 1),
]
INVALID = event("bad", "dan@example.com", "dan-1", "2026-11-22T10:00:00", 1)
# Another invalid event: the quarantine keeps each distinct one once.
INVALID_LATER = event("bad-later", "dan@example.com", "dan-2", "2026-11-24T10:00:00", 1)
# A new session for each user, and a new event for the quarantine.
LATER = [
    event("l1", "ana@example.com", "ana-2", "2026-11-24T09:00:00Z", 3),
    event("l2", "bob@example.com", "bob-2", "2026-11-24T10:00:00Z", 4),
    event("l3", "cy@example.com", "cy-2", "2026-11-24T11:00:00Z", 5),
    INVALID_LATER,
]
# The tables of a dump of single tables: the data, without a sequence.
DUMPED = ["users", "sessions", "events", "rejected_events", "counters"]


def hinted_constraint(error):
    """The constraint of a duplicate key error whose HINT names
    resync_sequences()."""
    assert error.sqlstate == "23505"
    assert error.diag.schema_name == "user_metrics"
    assert HINT in (error.diag.message_hint or ""), error.diag.message_hint
    return error.diag.constraint_name


SOURCE, TARGET = "user_metrics_seq_source", "user_metrics_seq_target"


@pytest.fixture
def copy(dsn, tmp_path):
    """A database holding STORED and INVALID, and an empty one with the extension;
    yields a function that dumps the first with the given pg_dump options, restores
    the dump into the second with pg_restore --data-only, and returns the DSNs of
    both."""
    source = fresh_database(dsn, SOURCE)
    target = fresh_database(dsn, TARGET)
    with psycopg.connect(source, autocommit=True) as conn:
        summary = conn.execute(INGEST, (Jsonb(STORED + [INVALID]),)).fetchone()[0]
        assert (summary["accepted"], summary["rejected"]) == (len(STORED), 1)

    def dump_and_restore(*options):
        dump = tmp_path / "data.dump"
        run_tool(source, "pg_dump", "--format=custom", "--data-only", f"--file={dump}",
                 *options, SOURCE)
        run_tool(dsn, "pg_restore", "--data-only", "--exit-on-error", f"--dbname={TARGET}", dump)
        return source, target

    yield dump_and_restore
    drop_database(dsn, SOURCE)
    drop_database(dsn, TARGET)


def test_a_restore_with_pg_dump_t_fails_calls_with_a_hint_until_resync_sequences(copy):
    _, target = copy(*(f"--table=user_metrics.{table}" for table in DUMPED))
    with psycopg.connect(target, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == len(STORED)
        with pytest.raises(psycopg.errors.UniqueViolation) as refused:
            conn.execute(INGEST, (Jsonb(LATER),))
        assert hinted_constraint(refused.value) in {"sessions_pkey", "events_pkey",
                                                    "rejected_events_pkey"}
        # The call failed whole: nothing of it was stored.
        assert conn.execute("SELECT count(*) FROM user_metrics.sessions").fetchone()[0] == 3

        moved = conn.execute("SELECT sequence_name, new_value FROM "
                             "user_metrics.resync_sequences() ORDER BY 1").fetchall()
        assert dict(moved)["user_metrics.sessions_id_seq"] == 3
        summary = conn.execute(INGEST, (Jsonb(LATER),)).fetchone()[0]
        assert (summary["accepted"], summary["rejected"]) == (3, 1)
        again = conn.execute(INGEST, (Jsonb(STORED),)).fetchone()[0]
        assert (again["accepted"], again["duplicates"]) == (0, len(STORED))
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
        assert (health["users"], health["sessions"], health["events"], health["rejected"]) \
            == (3, 6, 7, 2)


def test_a_data_only_dump_of_the_schema_carries_the_sequences(copy):
    source, target = copy("--schema=user_metrics")
    with psycopg.connect(source) as conn:
        snapshot = contents(conn)
    with psycopg.connect(target, autocommit=True) as conn:
        assert contents(conn) == snapshot
        summary = conn.execute(INGEST, (Jsonb(LATER),)).fetchone()[0]
        assert (summary["accepted"], summary["rejected"]) == (3, 1)


# For each table with an identity key: the call that takes its next id.
NEXT_ID_CALLS = {
    "events": (INGEST, [event("e-next", "ana@example.com", "ana-1", "2026-11-20T09:00:00Z", 1)]),
    "sessions": (INGEST, [event("s-next", "ana@example.com", "ana-9", "2026-11-25T09:00:00Z", 1)]),
    "rejected_events": (INGEST, [INVALID_LATER]),
    "forgotten_users": ("SELECT user_metrics.forget_user(%s)", "other@example.com"),
}


@pytest.mark.parametrize("table", sorted(NEXT_ID_CALLS))
def test_a_sequence_set_back_gives_the_hint_on_every_identity_key(db, table):
    db.execute(INGEST, (Jsonb(STORED[:2] + [INVALID]),))
    db.execute("SELECT user_metrics.forget_user('gone@example.com')")
    # The next id the sequence hands out is the largest the table holds (ana's,
    # for sessions and events: she is the only user).
    db.execute(f"SELECT setval(pg_get_serial_sequence('user_metrics.{table}', 'id'), "
               f"(SELECT max(id) FROM user_metrics.{table}), false)")
    query, argument = NEXT_ID_CALLS[table]
    argument = Jsonb(argument) if query == INGEST else argument
    with pytest.raises(psycopg.errors.UniqueViolation) as refused:
        db.execute(query, (argument,))
    assert hinted_constraint(refused.value) == f"{table}_pkey"

    db.execute("SELECT user_metrics.resync_sequences()")
    db.execute(query, (argument,))


def test_a_duplicate_in_a_copy_of_a_key_says_call_again(db):
    # What REINDEX ... CONCURRENTLY leaves for a while: a second unique index
    # beside the one ON CONFLICT settles, named as its copy. Made here on the
    # session id alone, so that two users' sessions of one id meet in it.
    db.execute("CREATE UNIQUE INDEX sessions_client_session_id_key_ccnew "
               "ON user_metrics.sessions (client_session_id)")
    try:
        db.execute(INGEST, (Jsonb([STORED[0]]),))
        with pytest.raises(psycopg.errors.UniqueViolation) as refused:
            db.execute(INGEST, (Jsonb([event("b", "bob@example.com", "ana-1",
                                             "2026-11-20T09:00:00Z", 1)]),))
        error = refused.value
        assert (error.sqlstate, error.diag.schema_name, error.diag.constraint_name) \
            == ("23505", "user_metrics", "sessions_client_session_id_key_ccnew")
        assert "Nothing of this call was stored: call again." in error.diag.message_hint
        assert "REINDEX ... CONCURRENTLY" in error.diag.message_hint
    finally:
        db.execute("DROP INDEX user_metrics.sessions_client_session_id_key_ccnew")
