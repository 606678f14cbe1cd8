#!/usr/bin/env python3
"""Events per second of ingest_metrics at several batch sizes, for the build
installed in the database given: the measurement behind PLAN_WITH_VALUES_FROM
(src/sql/run.rs), the batch size from which a statement is planned with its
arrays' values rather than run on its generic plan. bench/plan_crossover.sh runs
it against a build that always plans with the values and one that never does.

    plan_crossover.py DSN [--sizes 25,50,100,200,400,1000] [--events 20000] [--runs 3]

Prints one JSON object: per batch size, the median events/s of the runs (about 20
events per session, bench/workload.py's shape, from empty tables each run)."""
import argparse
import json
import statistics
import time

import psycopg

from workload import shaped


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dsn")
    p.add_argument("--sizes", default="25,50,100,200,400,1000")
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    events = shaped(args.events, 20)
    out = {}
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        for size in (int(s) for s in args.sizes.split(",")):
            batches = [json.dumps(events[i:i + size]) for i in range(0, len(events), size)]
            runs = []
            for _ in range(args.runs):
                conn.execute("TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users")
                started = time.perf_counter()
                for batch in batches:
                    conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (batch,))
                runs.append(time.perf_counter() - started)
            out[size] = round(len(events) / statistics.median(runs))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
