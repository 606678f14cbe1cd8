"""The quarantine on a distributed installation: rejected_events is a local table
of the coordinator, while replaying writes to the distributed tables, in one
transaction."""
import pytest
from psycopg.types.json import Jsonb

from citus import connect, drop_citus_database, fresh_citus_database
from events import event


def ingest(conn, payload):
    return conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(payload),)).fetchone()[0]


def counts(conn):
    h = conn.execute("SELECT user_metrics.health()").fetchone()[0]
    return h["users"], h["sessions"], h["events"], h["rejected"]


@pytest.fixture
def citus():
    url = fresh_citus_database("um_citus_quarantine")
    with connect(url) as conn:
        conn.execute("CREATE EXTENSION user_metrics")
        conn.execute("SELECT user_metrics.distribute(4)")
    yield url
    drop_citus_database("um_citus_quarantine")


def test_list_replay_and_discard_on_citus(citus):
    with connect(citus) as conn:
        summary = ingest(conn, [
            event("ok-1", "ana@x", "s1", "2026-11-23T09:00:00Z", 1),
            event("late-ts", "bob@x", "s2", "2026-11-23T09:00:00", 2),
            event("negative", "cruz@x", "s3", "2026-11-23T09:00:00Z", -3),
            event("typo", "dina@x", "s4", "2026-11-23T09:00:00Z", 4, metrics__talk_time=1),
        ])
        assert (summary["accepted"], summary["rejected"]) == (1, 3)
        listed = conn.execute("SELECT id, event_id, error_code FROM user_metrics.list_rejected_events() "
                              "ORDER BY batch_index").fetchall()
        assert [(e, c) for _, e, c in listed] == [("late-ts", "invalid_timestamp"),
                                                  ("negative", "invalid_value"),
                                                  ("typo", "unknown_field")]
        (late, _, _), (negative, _, _), (typo, _, _) = listed
        assert counts(conn) == (1, 1, 1, 3)

        # The DBA corrects two payloads in place; the third stays wrong.
        conn.execute("UPDATE user_metrics.rejected_events SET payload = jsonb_set(payload, "
                     "'{session,started_at}', '\"2026-11-23T09:00:00Z\"') WHERE id = %s", (late,))
        conn.execute("UPDATE user_metrics.rejected_events SET payload = jsonb_set(payload, "
                     "'{metrics,talked_time}', '3') WHERE id = %s", (negative,))
        result = conn.execute("SELECT user_metrics.replay_rejected(%s)",
                              ([late, negative, typo, 999_999],)).fetchone()[0]
        assert (result["replayed"], result["accepted"], result["duplicates"], result["rejected"],
                result["not_found"]) == (3, 2, 0, 1, [999_999])
        assert [e["id"] for e in result["errors"]] == [typo]
        assert conn.execute("SELECT id, replay_count FROM user_metrics.rejected_events").fetchall() == [(typo, 1)]
        assert conn.execute("SELECT u.email, s.talked_time::text FROM user_metrics.sessions AS s "
                            "JOIN user_metrics.users AS u USING (user_key) ORDER BY 1").fetchall() == \
            [("ana@x", "1"), ("bob@x", "2"), ("cruz@x", "3")]
        assert counts(conn) == (3, 3, 3, 1)

        # Replaying a stored event again: a duplicate, gone from the quarantine.
        conn.execute("INSERT INTO user_metrics.rejected_events (batch_index, event_id, error_code, "
                     "error_message, payload) VALUES (0, 'ok-1', 'invalid_value', 'test', %s)",
                     (Jsonb(event("ok-1", "ana@x", "s1", "2026-11-23T09:00:00Z", 1)),))
        again = conn.execute("SELECT id FROM user_metrics.rejected_events WHERE event_id = 'ok-1'").fetchone()[0]
        result = conn.execute("SELECT user_metrics.replay_rejected(%s)", ([again],)).fetchone()[0]
        assert (result["accepted"], result["duplicates"]) == (0, 1)

        assert conn.execute("SELECT user_metrics.discard_rejected(%s)", ([typo, 424_242],)).fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM user_metrics.list_rejected_events()").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 3


def test_forget_user_on_citus(citus):
    """Erasure deletes from the distributed tables and from the coordinator's
    quarantine in one transaction; the same person's old events are then dropped,
    answered as events sent again."""
    with connect(citus) as conn:
        ingest(conn, [event("f-1", "ana@x", "s1", "2026-11-23T09:00:00Z", 1),
                      event("f-2", "ana@x", "s2", "2026-11-23T10:00:00Z", 2),
                      event("f-3", "ana@x", "s2", "2026-11-23T10:00:00", 2),
                      event("k-1", "bob@x", "s1", "2026-11-23T09:00:00Z", 5)])
        erased = conn.execute("SELECT user_metrics.forget_user('ANA@x')").fetchone()[0]
        assert (erased["users"], erased["sessions"], erased["events"], erased["quarantined"]) == (1, 2, 2, 1)
        assert conn.execute("SELECT array_agg(email) FROM user_metrics.users").fetchone()[0] == ["bob@x"]
        assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 0
        summary = ingest(conn, [event("f-1", "ana@x", "s1", "2026-11-23T09:00:00Z", 1)])
        assert summary == {"accepted": 0, "duplicates": 1, "rejected": 0, "errors": []}, summary
        assert conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 1


def test_purge_on_citus(citus):
    """Retention deletes old sessions with their events and the users left without
    one from the distributed tables, in bounded batches."""
    with connect(citus) as conn:
        ingest(conn, [event(f"old-{n}", f"user{n % 5}@x", f"old-{n % 12}", "2020-01-06T09:00:00Z", 1)
                      for n in range(60)]
               + [event("new-1", "user0@x", "new-1", "2026-11-23T09:00:00Z", 2)])
        first = conn.execute("SELECT user_metrics.purge('1 year', 5)").fetchone()[0]
        assert (first["sessions"], first["more"]) == (5, True), first
        rest = conn.execute("SELECT user_metrics.purge('1 year')").fetchone()[0]
        assert rest["more"] is False, rest
        # Sessions are per user: 60 events make 60 (user, session id) pairs.
        assert first["sessions"] + rest["sessions"] == 60, (first, rest)
        assert first["events"] + rest["events"] == 60
        assert conn.execute("SELECT array_agg(client_session_id) FROM user_metrics.sessions").fetchone()[0] == \
            ["new-1"]
        assert conn.execute("SELECT array_agg(email) FROM user_metrics.users").fetchone()[0] == ["user0@x"]
