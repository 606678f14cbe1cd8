"""Quarantined events can be looked at, replayed once the reason is gone, and
discarded; replay removes what it stores and keeps, with the new reason, what it
still refuses."""
import threading

import psycopg
from psycopg.types.json import Jsonb

from events import event


def ingest(conn, payload):
    return conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(payload),)).fetchone()[0]


def quarantine(conn):
    return conn.execute("SELECT id, event_id, error_code, replay_count, last_replayed_at IS NOT NULL "
                        "FROM user_metrics.rejected_events ORDER BY id").fetchall()


def quarantine_as_before_0_3_0(conn, *events):
    """Writes events into the quarantine as 0.2.0 refused them for naming another
    user's session (session_user_conflict): since 0.3.0 session ids are per user,
    so a replay stores them."""
    for e in events:
        conn.execute("INSERT INTO user_metrics.rejected_events "
                     "(batch_index, event_id, error_code, error_message, payload) "
                     "VALUES (0, %s, 'session_user_conflict', 'session.id: belongs to another user', %s)",
                     (e["event_id"], Jsonb(e)))
    conn.execute("INSERT INTO user_metrics.counters (slot, rejected) VALUES (-1, %s) "
                 "ON CONFLICT (slot) DO UPDATE SET rejected = counters.rejected + excluded.rejected",
                 (len(events),))


def test_replay_stores_what_has_become_valid_and_keeps_the_rest(db):
    ingest(db, event("owner", "ana@x", "s1", "2026-11-23T09:00:00Z", 1))
    quarantine_as_before_0_3_0(db, event("conflict", "bob@x", "s1", "2026-11-23T09:00:00Z", 5))
    ingest(db, event("bad", "bob@x", "s2", "2026-11-23T09:00:00", 5))
    (conflict_id, *_), (bad_id, *_) = quarantine(db)

    result = db.execute("SELECT user_metrics.replay_rejected(%s)", ([conflict_id, bad_id, 999_999],)).fetchone()[0]
    assert result == {
        "replayed": 2, "accepted": 1, "duplicates": 0, "rejected": 1,
        "errors": [{"id": bad_id, "code": "invalid_timestamp",
                    "message": 'session.started_at: time has no UTC offset (add Z or +hh:mm), got "2026-11-23T09:00:00"'}],
        "not_found": [999_999],
    }
    assert quarantine(db) == [(bad_id, "bad", "invalid_timestamp", 1, True)]
    details = db.execute("SELECT email, talked_time FROM user_metrics.get_session_details('s1')").fetchall()
    assert details == [("ana@x", 1), ("bob@x", 5)]
    assert db.execute("SELECT user_metrics.health()->'rejected'").fetchone()[0] == 1

    # Replaying an event whose event_id its user stored by now removes it as a duplicate.
    quarantine_as_before_0_3_0(db, event("dupe", "bob@x", "s1", "2026-11-23T09:00:00Z", 2))
    dupe_id = quarantine(db)[-1][0]
    ingest(db, event("dupe", "bob@x", "s1", "2026-11-23T09:00:00Z", 2))
    result = db.execute("SELECT user_metrics.replay_rejected(%s)", ([dupe_id],)).fetchone()[0]
    assert (result["duplicates"], result["rejected"]) == (1, 0)
    assert [row[0] for row in quarantine(db)] == [bad_id]


def test_the_fix_and_discard_flow(db):
    ingest(db, event("typo", "ana@x", "s1", "2026-11-23T09:00:00", 7))
    (typo_id, *_), = quarantine(db)
    payload = db.execute("SELECT payload FROM user_metrics.list_rejected_events()").fetchone()[0]
    payload["session"]["started_at"] += "Z"
    assert ingest(db, payload)["accepted"] == 1
    assert db.execute("SELECT user_metrics.discard_rejected(%s)", ([typo_id, 424242],)).fetchone()[0] == 1
    assert quarantine(db) == []


def test_two_replays_of_the_same_events_store_them_once(dsn, db):
    ingest(db, event("owner", "ana@x", "s1", "2026-11-23T09:00:00Z", 1))
    quarantine_as_before_0_3_0(db, event("conflict", "bob@x", "s1", "2026-11-23T09:00:00Z", 5))
    (conflict_id, *_), = quarantine(db)
    with psycopg.connect(dsn) as first, psycopg.connect(dsn) as second:
        a = first.execute("SELECT user_metrics.replay_rejected(%s)", ([conflict_id],)).fetchone()[0]
        # The second waits for the first's lock on the quarantined row, then finds it gone.
        results = []
        t = threading.Thread(target=lambda: results.append(
            second.execute("SELECT user_metrics.replay_rejected(%s)", ([conflict_id],)).fetchone()[0]))
        t.start()
        first.commit()
        t.join()
        second.commit()
    assert a["accepted"] == 1
    assert results[0]["not_found"] == [conflict_id] and results[0]["replayed"] == 0
    assert db.execute("SELECT count(*) FROM user_metrics.events WHERE event_id = 'conflict'").fetchone()[0] == 1


def test_an_invalid_event_sent_again_is_kept_once_under_concurrent_retries(dsn, db):
    """Eight writers retry the same invalid events, in different orders, several in
    one call, some calls rolled back: the quarantine holds each distinct event
    that a committed call sent once, with every committed arrival counted, and no
    call fails (the rows are taken in one order, so no deadlock). health() counts
    the rows, ingest_stats every refused arrival."""
    import random

    invalid = [event(f"bad-{n}", f"user{n % 7}@example.com", f"s-{n}", "2026-11-23T09:00:00", 1)
               for n in range(40)]
    writers, calls = 8, 30
    failures, committed = [], []
    lock = threading.Lock()

    def writer(w):
        rng = random.Random(w)
        try:
            with psycopg.connect(dsn) as conn:
                for c in range(calls):
                    sent = rng.sample(invalid, 6) + rng.sample(invalid, 2)  # some twice in a call
                    rng.shuffle(sent)
                    batch = sent + [event(f"ok-{w}-{c}", "kim@example.com", "s-ok",
                                          "2026-11-23T09:00:00Z", 1)]
                    summary = ingest(conn, batch)
                    assert summary["rejected"] == len(sent)
                    if c % 5 == 4:
                        conn.rollback()
                    else:
                        conn.commit()
                        with lock:
                            committed.extend(e["event_id"] for e in sent)
        except Exception as error:  # collected and asserted on below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []

    rows = dict(db.execute("SELECT event_id, times_received FROM user_metrics.rejected_events"
                           ).fetchall())
    arrivals = {event_id: committed.count(event_id) for event_id in set(committed)}
    assert rows == arrivals
    assert int(db.execute("SELECT user_metrics.health()->>'rejected'").fetchone()[0]) == len(rows)
    assert db.execute("SELECT sum(rejected) FROM user_metrics.ingest_stats").fetchone()[0] == \
        len(committed)
    listed = db.execute("SELECT event_id, times_received, last_received_at >= received_at "
                        "FROM user_metrics.list_rejected_events(max_rows => 1000)").fetchall()
    assert {(event_id, times, True) for event_id, times in arrivals.items()} == set(listed)
