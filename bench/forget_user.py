#!/usr/bin/env python3
"""What forget_user costs as the quarantine and the users table grow: it reads
every quarantined event and every user's address. Measured beside reading every
quarantined payload as text, in the same run, on the same server.

    python bench/forget_user.py --dsn 'host=/var/tmp/user_metrics/test port=55433 user=postgres' [--events 100000]

Creates the database forget_user_bench on that server (the extension must be
installed there), fills it with --events invalid events (quarantined) and as many
valid ones (a user each), times each statement once, then drops the database.
"""
import argparse
import time

import psycopg
from psycopg.types.json import Jsonb

BATCH = 5000


def event(n, valid):
    return {"event_id": f"e{n}", "user": {"email": f"user{n}@example.com", "name": f"User {n}"},
            "session": {"id": f"s{n}", "started_at": "2026-11-16T09:00:00" + ("Z" if valid else ""),
                        "device": {"os": "Android 14", "model": "Pixel 8", "note": f"owner user{n}@example.com"}},
            "metrics": {"talked_time": 1}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True, help="libpq connection string of the server (any database)")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    n = args.events
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS forget_user_bench")
        conn.execute("CREATE DATABASE forget_user_bench")
    url = psycopg.conninfo.make_conninfo(args.dsn, dbname="forget_user_bench")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            for start in range(0, n, BATCH):
                stop = min(start + BATCH, n)
                conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                             (Jsonb([event(i, False) for i in range(start, stop)]),))
                conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                             (Jsonb([event(n + i, True) for i in range(start, stop)]),))
            conn.execute("VACUUM ANALYZE")
            quarantined, users, size = conn.execute(
                "SELECT (SELECT count(*) FROM user_metrics.rejected_events), "
                "(SELECT count(*) FROM user_metrics.users), "
                "pg_size_pretty(pg_total_relation_size('user_metrics.rejected_events'))").fetchone()
            print(f"{quarantined} quarantined events ({size}), {users} users")
            for label, statement in [
                ("every quarantined payload read as text", "SELECT sum(length(payload::text)) FROM user_metrics.rejected_events"),
                ("forget_user: an address in one quarantined event", "SELECT user_metrics.forget_user('user7@example.com')"),
                ("forget_user: an address held nowhere", "SELECT user_metrics.forget_user('nobody@example.com')"),
                ("forget_user: a stored user", f"SELECT user_metrics.forget_user('user{n + 7}@example.com')"),
                ("every quarantined payload read as text", "SELECT sum(length(payload::text)) FROM user_metrics.rejected_events"),
            ]:
                began = time.perf_counter()
                conn.execute(statement).fetchone()
                print(f"  {label:50s} {time.perf_counter() - began:7.3f} s")
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS forget_user_bench")


if __name__ == "__main__":
    main()
