"""How Citus runs the inserts of a call of many users, by the form of the
statement: the rows as arrays (`INSERT ... SELECT ... FROM unnest($1, $2, ...)`,
the form of the extension's batch statements), the same with
`citus.multi_shard_modify_mode = sequential` (one connection per worker, in
Citus's words), the same with `citus.max_adaptive_executor_pool_size = 1` (at
most one connection per worker for the executor), the arrays with neither
`ON CONFLICT` nor `RETURNING` and that pool (the sessions' ids drawn from their
sequence first; a bound on what a Citus path without them could cost, not a
form that could store a batch as the extension does: it would fail where the
extension skips a row that exists), or a multi-row `INSERT ... VALUES ($1, $2), ($3, $4), ...` with
the same rows as parameters.

For each shard count given, in its database (made by citus_insert_forms.sh,
distributed with `user_metrics.distribute(N)`), and for each batch of valid events
of bench/workload.py (`shaped`, a new session per event): the users, the sessions
and the events of the batch inserted in one transaction (ON CONFLICT DO NOTHING, the sessions' ids taken from their
RETURNING rows), from empty tables, the three in turn. Prints the median
milliseconds of a batch per form and the worker connections one batch used
(`citus.log_remote_commands`). Not part of the test command.

    python3 bench/citus_insert_forms.py --dsn 'host=... port=... user=postgres' --shards 32,4
"""
import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import shaped  # noqa: E402

TABLES = "user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.counters"
USERS = ("user_key", "email", "name")
SESSIONS = ("user_key", "client_session_id", "started_at", "ended_at", "event_count", "talked_time",
            "microphone_used", "speaker_used", "sentiment_sum", "sentiment_count")
EVENTS = ("user_key", "event_id", "session_id", "recorded_at", "talked_time", "microphone_used",
          "speaker_used", "voice_sentiment")
TYPES = {"id": "bigint", "user_key": "bigint", "email": "text", "name": "text", "client_session_id": "text",
         "started_at": "timestamptz", "ended_at": "timestamptz", "event_count": "bigint",
         "talked_time": "numeric", "microphone_used": "boolean", "speaker_used": "boolean",
         "sentiment_sum": "numeric", "sentiment_count": "bigint", "event_id": "text",
         "session_id": "bigint", "recorded_at": "timestamptz", "voice_sentiment": "numeric"}


def rows_of(batch, keys):
    """The users, sessions and events of a batch, one row each, as tuples."""
    users, sessions, events = {}, {}, []
    for e in batch:
        key = keys[e["user"]["email"]]
        users[key] = (key, e["user"]["email"], e["user"].get("name"))
        s, m = e["session"], e["metrics"]
        sentiment, talked = m.get("voice_sentiment"), float(m.get("talked_time", 0))
        sessions.setdefault((key, s["id"]), (key, s["id"], s["started_at"], s["ended_at"], 1,
                                             talked, m.get("microphone_used"), m.get("speaker_used"),
                                             float(sentiment or 0), int(sentiment is not None)))
        events.append((key, e["event_id"], s["id"], e.get("recorded_at"), talked,
                       m.get("microphone_used"), m.get("speaker_used"), sentiment))
    return sorted(users.values()), sorted(sessions.values()), sorted(events, key=lambda r: (r[0], r[1]))


FORMS = ("unnest", "unnest, sequential", "unnest, pool 1", "plain, pool 1", "VALUES")


def rows_source(form, columns, rows):
    """The SELECT list source of an INSERT in the given form, and its parameters."""
    if form.startswith("unnest"):
        arrays = ", ".join(f"%s::{TYPES[c]}[]" for c in columns)
        return f"SELECT * FROM unnest({arrays})", [list(col) for col in zip(*rows)]
    row = "(" + ", ".join(f"%s::{TYPES[c]}" for c in columns) + ")"
    return "VALUES " + ", ".join([row] * len(rows)), [v for r in rows for v in r]


def insert_plain(conn, users, sessions, events):
    """The three inserts with neither ON CONFLICT nor RETURNING: Citus then copies
    the rows straight into the shards, over the executor's pool of connections,
    instead of into a file per shard first."""
    ids = [row[0] for row in conn.execute(
        "SELECT nextval(pg_get_serial_sequence('user_metrics.sessions', 'id')) "
        "FROM generate_series(1, %s)", (len(sessions),))]
    ids_of = {(s[0], s[1]): i for s, i in zip(sessions, ids)}
    source, params = rows_source("unnest", USERS, users)
    conn.execute(f"INSERT INTO user_metrics.users ({', '.join(USERS)}) {source}", params)
    columns = ("id",) + SESSIONS
    source, params = rows_source("unnest", columns, [(i,) + s for s, i in zip(sessions, ids)])
    conn.execute(f"INSERT INTO user_metrics.sessions ({', '.join(columns)}) OVERRIDING SYSTEM VALUE {source}",
                 params)
    rows = [(r[0], r[1], ids_of[(r[0], r[2])]) + r[3:] for r in events]
    source, params = rows_source("unnest", EVENTS, rows)
    conn.execute(f"INSERT INTO user_metrics.events ({', '.join(EVENTS)}) {source}", params)


def insert_batch(conn, form, users, sessions, events):
    if form.endswith("sequential"):
        conn.execute("SET LOCAL citus.multi_shard_modify_mode = sequential")
    if form.endswith("pool 1"):
        conn.execute("SET LOCAL citus.max_adaptive_executor_pool_size = 1")
    if form.startswith("plain"):
        insert_plain(conn, users, sessions, events)
        return
    source, params = rows_source(form, USERS, users)
    conn.execute(f"INSERT INTO user_metrics.users ({', '.join(USERS)}) {source} ON CONFLICT DO NOTHING", params)
    source, params = rows_source(form, SESSIONS, sessions)
    ids = {(k, s): i for k, s, i in conn.execute(
        f"INSERT INTO user_metrics.sessions ({', '.join(SESSIONS)}) {source} "
        "ON CONFLICT (user_key, client_session_id) DO NOTHING RETURNING user_key, client_session_id, id", params)}
    rows = [(r[0], r[1], ids[(r[0], r[2])]) + r[3:] for r in events]
    source, params = rows_source(form, EVENTS, rows)
    conn.execute(f"INSERT INTO user_metrics.events ({', '.join(EVENTS)}) {source} "
                 "ON CONFLICT (user_key, event_id) DO NOTHING", params)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dsn", required=True, help="the coordinator, without dbname")
    p.add_argument("--shards", default="32,4")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--batches", type=int, default=5)
    args = p.parse_args()
    events = shaped(args.batch * args.batches, 1)
    for shards in args.shards.split(","):
        with psycopg.connect(f"{args.dsn} dbname=forms_{shards}_shards", autocommit=True) as conn:
            emails = sorted({e["user"]["email"] for e in events})
            keys = dict(conn.execute("SELECT e, user_metrics.user_key(e) FROM unnest(%s::text[]) AS e",
                                     (emails,)).fetchall())
            batches = [rows_of(events[i:i + args.batch], keys) for i in range(0, len(events), args.batch)]
            times, connections = collections.defaultdict(list), {}
            for batch in batches:
                for form in FORMS:
                    conn.execute(f"TRUNCATE {TABLES}")
                    details = []

                    def note(diagnostic, details=details):
                        details.append(diagnostic.message_detail)

                    conn.add_notice_handler(note)
                    conn.execute("SET citus.log_remote_commands = on")
                    started = time.perf_counter()
                    with conn.transaction():
                        insert_batch(conn, form, *batch)
                    times[form].append((time.perf_counter() - started) * 1000)
                    conn.execute("RESET citus.log_remote_commands")
                    conn.remove_notice_handler(note)
                    connections[form] = len({d for d in details if d})
                    stored = conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]
                    assert stored == len(batch[2]), f"{form}: {stored} events stored, not {len(batch[2])}"
            base = statistics.median(times["unnest"])
            print(f"{shards} shards, {args.batch} events per batch ({len(batches)} batches), median ms of a batch: "
                  + "; ".join(f"{form} {statistics.median(times[form]):.1f} ({connections[form]} connections, "
                              f"{base / statistics.median(times[form]):.2f}x)" for form in FORMS), flush=True)


if __name__ == "__main__":
    main()
