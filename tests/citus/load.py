"""What the Citus tier loads: the sample data set and a generated workload, sent
by the same calls in the same order to a distributed and a single-node
installation."""
import json
import random
from pathlib import Path

from psycopg.types.json import Jsonb

from workload import generate

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "sample" / "events.json").read_text())
# 50,000 events from 2,000 users over 8,000 sessions in 8 weeks: each session's
# events are spread over many batches; 2% are repeats of an earlier event and 1%
# are invalid (bench/workload.py). Deterministic.
WORKLOAD = generate(events=50_000, users=2_000, sessions=8_000, seed=7,
                    duplicate_share=0.02, invalid_share=0.01)


def batches(events, seed):
    """The events cut into batches of mixed sizes, deterministically."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(events):
        size = rng.choice([1, 20, 200, 1000, 2500])
        out.append(events[i:i + size])
        i += size
    return out


def ingest(conn, payload):
    return conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(payload),)).fetchone()[0]


def ingest_all(conn, calls):
    """Sends every batch; returns the summed accepted, duplicates and rejected."""
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    for batch in calls:
        summary = ingest(conn, batch)
        for key in totals:
            totals[key] += summary[key]
    return totals


def load_sample_and_workload(*dsns):
    """The sample, then the workload, into each database; what each load returned."""
    import psycopg

    calls = [SAMPLE] + batches(WORKLOAD, seed=7)
    results = []
    for dsn in dsns:
        with psycopg.connect(dsn, autocommit=True) as conn:
            results.append(ingest_all(conn, calls))
    return results
