"""user_metrics from Python with psycopg 3: ingest a batch, read its summary,
catch an invalid event in raise mode, retry what is safe to retry, print a report.

    USER_METRICS_DSN=postgresql://metrics_app:secret@127.0.0.1:5432/metrics \
        python ingest_example.py
"""
import json
import os
import random
import time

import psycopg
from psycopg.types.json import Jsonb

# Deadlock, serialization failure, lock timeout: PostgreSQL rolled the whole
# transaction back, so running it again is safe. ingest_metrics is idempotent
# per event_id: an event the first attempt did store counts as a duplicate.
RETRYABLE = {"40P01", "40001", "55P03"}
ATTEMPTS = 5

# One valid event and one with a negative talked_time: in raise mode the call
# fails at index 1 and stores neither.
BAD_BATCH = [
    {"event_id": "raise-1", "user": {"email": "eve@example.com"},
     "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"},
     "metrics": {"talked_time": 10}},
    {"event_id": "raise-2", "user": {"email": "eve@example.com"},
     "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"},
     "metrics": {"talked_time": -5}},
]


def ingest(conn, events, on_error="quarantine"):
    """One ingest_metrics call in its own transaction, retried on the codes above."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with conn.transaction():
                return conn.execute(
                    "SELECT user_metrics.ingest_metrics(%s, %s)", (Jsonb(events), on_error)
                ).fetchone()[0]
        except psycopg.Error as error:
            if error.sqlstate not in RETRYABLE or attempt == ATTEMPTS:
                raise
            # Exponential backoff with jitter, so that the two sides of a
            # deadlock do not collide again.
            time.sleep(random.uniform(0, 0.05 * 2**attempt))


def main():
    path = os.environ.get("USER_METRICS_EVENTS", "../../sample/events.json")
    with open(path, encoding="utf-8") as f:
        events = json.load(f)

    with psycopg.connect(os.environ["USER_METRICS_DSN"], autocommit=True) as conn:
        summary = ingest(conn, events)
        print(f"summary: accepted={summary['accepted']} duplicates={summary['duplicates']} "
              f"rejected={summary['rejected']}")
        for error in summary["errors"]:
            print(f"error: index={error['index']} code={error['code']} message={error['message']}")

        try:
            ingest(conn, BAD_BATCH, on_error="raise")
            raise SystemExit("raise mode accepted an invalid event")
        except psycopg.errors.InvalidParameterValue as error:  # SQLSTATE 22023
            print(f"raise: sqlstate={error.sqlstate} message={error.diag.message_primary}")
            print(f"detail: {error.diag.message_detail}")

        rows = conn.execute(
            "SELECT email, session_count, total_talked_time"
            " FROM user_metrics.aggregate_user_metrics()"  # ordered by e-mail
        ).fetchall()
        for email, sessions, talked_time in rows:
            # numeric arrives as Decimal, exact; 'f' keeps it out of exponent form.
            print(f"report: {email} sessions={sessions} talked_time={talked_time:f}")


if __name__ == "__main__":
    main()
