#!/usr/bin/env python3
"""The user_metrics benchmark: user_metrics against a plain PL/pgSQL reference
(bench/reference.sql) and against COPY, on the same data, the same tables and the
same server, in one run. Run it through scripts/bench.sh, which builds and
installs the release build first.

Prints one table and writes bench/results/latest.json, a timestamped copy, and
bench/results/ingest.png.
"""
import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql

from workload import generate, shaped

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
IMPLEMENTATIONS = {
    "user_metrics": "user_metrics.ingest_metrics",
    "reference": "reference.ingest_metrics",
}
TABLES = "user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.rejected_events"
# Settings of the benchmark cluster, the same for every implementation.
SERVER_SETTINGS = {
    "shared_buffers": "2GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "max_connections": "100",
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000, help="events in the ingest workload")
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--sessions", type=int, default=40_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch-sizes", default="1,100,1000,10000")
    p.add_argument("--ingest-runs", type=int, default=3,
                   help="runs of each implementation at each batch size, in turn (median)")
    p.add_argument("--single-event-calls", type=int, default=20_000,
                   help="events sent one per call for batch size 1 (a prefix of the workload)")
    p.add_argument("--pgbench-seconds", type=int, default=15)
    p.add_argument("--pgbench-clients", default="1,8,16")
    p.add_argument("--report-events", type=int, default=1_000_000, help="events loaded for the report latencies")
    p.add_argument("--big", action="store_true", help="also measure the reports at 10,000,000 events")
    p.add_argument("--report-calls", type=int, default=25)
    p.add_argument("--socket-dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data-dir", required=True, help="the cluster's data directory, for restarts")
    p.add_argument("--pg-bindir", required=True)
    p.add_argument("--run-as", default="", help="OS user the server runs as, when not the current one")
    p.add_argument("--shape-events", type=int, default=100_000,
                   help="events per session shape for the ingest-against-COPY comparison (calls of 1,000)")
    p.add_argument("--shape-runs", type=int, default=3, help="runs of each side of that comparison (median)")
    p.add_argument("--growth-levels", default="0,1000000,5000000,10000000",
                   help="events already stored at each point of the growth curve")
    p.add_argument("--growth-events", type=int, default=100_000, help="events ingested at each point of the curve")
    p.add_argument("--growth-defaults-levels", default="0,5000000",
                   help="the points of the same curve on PostgreSQL's default settings")
    p.add_argument("--skip", default="",
                   help="comma-separated parts to skip: ingest,citus,copy,shapes,growth,growth-defaults,pgbench,"
                        "reports,memory")
    p.add_argument("--citus-port", type=int, default=0,
                   help="coordinator port of the Citus cluster (scripts/citus_cluster.sh) for the Citus row; 0: none")
    p.add_argument("--citus-cluster", default="citus", help="that cluster's name (CITUS_CLUSTER)")
    p.add_argument("--citus-batch-sizes", default="1,100,1000", help="batch sizes of the Citus comparison")
    p.add_argument("--citus-events", type=int, default=40_000,
                   help="events of the Citus comparison (a prefix of the workload)")
    p.add_argument("--citus-single-event-calls", type=int, default=3_000,
                   help="events sent one per call in the Citus comparison")
    p.add_argument("--citus-runs", type=int, default=2,
                   help="runs of each side of the Citus comparison, alternating (median)")
    p.add_argument("--citus-setups", default="32:1,32:16,4:1,4:16",
                   help="the Citus sides, comma-separated SHARDS:CACHED: distribute(SHARDS), and the "
                        "ingesting session's citus.max_cached_conns_per_worker = CACHED (Citus's default: 1)")
    return p.parse_args()


class Bench:
    def __init__(self, args):
        self.args = args
        self.db = "user_metrics_bench"
        self.base = f"host={args.socket_dir} port={args.port} user=postgres"
        self.results = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}

    def connect(self, **kw):
        return psycopg.connect(f"{self.base} dbname={self.db}", autocommit=True, **kw)

    def pg_ctl(self, *argv):
        # The server's environment: no RUST_BACKTRACE (errors would carry a backtrace).
        command = ["env", "-u", "RUST_BACKTRACE", f"{self.args.pg_bindir}/pg_ctl", "-D", self.args.data_dir, *argv]
        if self.args.run_as:
            command = ["runuser", "-u", self.args.run_as, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    # -- set-up -----------------------------------------------------------------
    def prepare_database(self):
        with psycopg.connect(f"{self.base} dbname=postgres", autocommit=True) as conn:
            for name, value in SERVER_SETTINGS.items():
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        self.restart()
        with psycopg.connect(f"{self.base} dbname=postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {self.db}")
        with self.connect() as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            conn.execute((ROOT / "bench" / "reference.sql").read_text())
            # The seed's own tables, for its per-event SQL (pgbench part).
            conn.execute((ROOT / "bench" / "flask_reference" / "schema.sql").read_text())
            settings = conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s) ORDER BY 1",
                (["shared_buffers", "max_wal_size", "synchronous_commit", "fsync", "wal_level",
                  "checkpoint_timeout", "work_mem", "jit"],)).fetchall()
            version = conn.execute("SELECT version()").fetchone()[0]
        self.results["machine"] = {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "postgres": version,
            "settings": dict(settings),
        }

    def restart(self):
        self.pg_ctl("-m", "fast", "-w", "restart", "-l", str(Path(self.args.data_dir).parent / "postgres.log"))

    def empty(self, conn):
        # TRUNCATE leaves the tables as a fresh install has them: never analyzed.
        conn.execute(f"TRUNCATE {TABLES}")
        conn.execute("CHECKPOINT")

    # -- ingestion --------------------------------------------------------------
    def fingerprint(self, conn):
        """A digest of what ended up stored, to check that the implementations (and a
        distributed installation) agree. Computed here from plain queries: Citus
        runs no subquery in a SELECT list over distributed tables."""
        rows = conn.execute("""
            SELECT concat_ws('|', s.client_session_id, u.email, u.name, s.event_count,
                             round(s.talked_time::numeric, 6), s.started_at, s.ended_at, s.device,
                             s.microphone_used, s.speaker_used, s.sentiment_count,
                             round(s.sentiment_sum::numeric, 6))
            FROM user_metrics.sessions s JOIN user_metrics.users u ON u.user_key = s.user_key""").fetchall()
        digest = hashlib.md5(",".join(sorted(row[0] for row in rows)).encode()).hexdigest()
        events = conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]
        rejected = conn.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0]
        return f"{digest}/{events}/{rejected}"

    def ingest(self, events):
        """Each batch size, the implementations in turn, --ingest-runs times (each
        run from empty tables): the median run of each, and every run's rate."""
        sizes = [int(s) for s in self.args.batch_sizes.split(",")]
        out = {}
        for size in sizes:
            subset = events[: self.args.single_event_calls] if size == 1 else events
            batches = [json.dumps(subset[i:i + size]) for i in range(0, len(subset), size)]
            runs = {name: [] for name in IMPLEMENTATIONS}
            for _ in range(self.args.ingest_runs):
                for name, function in IMPLEMENTATIONS.items():
                    with self.connect() as conn:
                        self.empty(conn)
                        statement = f"SELECT {function}(%s::jsonb)"
                        totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
                        started = time.perf_counter()
                        for batch in batches:
                            summary = conn.execute(statement, (batch,)).fetchone()[0]
                            for key in totals:
                                totals[key] += summary[key]
                        seconds = time.perf_counter() - started
                        runs[name].append({"seconds": seconds, "totals": totals,
                                           "fingerprint": self.fingerprint(conn)})
            for name, done in runs.items():
                seconds = statistics.median(r["seconds"] for r in done)
                out.setdefault(str(size), {})[name] = {
                    "events": len(subset),
                    "seconds": round(seconds, 3),
                    "events_per_second": round(len(subset) / seconds),
                    "runs_events_per_second": [round(len(subset) / r["seconds"]) for r in done],
                    **done[-1]["totals"],
                    "fingerprint": done[-1]["fingerprint"],
                }
                print(f"  batch {size:>6}: {name:<13} {out[str(size)][name]['events_per_second']:>8} events/s"
                      f" (median of {out[str(size)][name]['runs_events_per_second']})", flush=True)
            fingerprints = {r["fingerprint"] for done in runs.values() for r in done}
            out[str(size)]["same_result"] = len(fingerprints) == 1
        self.results["ingest"] = out
        return out

    # -- Citus ------------------------------------------------------------------
    def citus(self, events):
        """The same ingestion into the tables distributed with user_metrics.distribute()
        over the Citus cluster of scripts/citus_cluster.sh (a coordinator and two
        workers on this machine, with the benchmark's server settings): what
        distribution costs per call, since the three nodes share the same cores.
        Each shard count of --citus-setups has a database of its own, distributed
        in that many shards; each setup ingests into its shard count's database with
        its number of cached connections per worker. Every side, the single node
        included, runs in turn."""
        port = self.args.citus_port
        nodes = [("coordinator", port), ("worker1", port + 1), ("worker2", port + 2)]
        run_dir = Path(self.args.socket_dir).parent
        setups = []
        for spec in self.args.citus_setups.split(","):
            shards, cached = (int(part) for part in spec.split(":"))
            setups.append({"name": f"{shards} shards, {cached} cached", "shards": shards, "cached": cached})

        def database(shards):
            return f"{self.db}_{shards}_shards"

        def dsn(node, db):
            return f"host={run_dir / (self.args.citus_cluster + '-' + node[0])} port={node[1]} user=postgres dbname={db}"

        for node in nodes:
            with psycopg.connect(dsn(node, "postgres"), autocommit=True) as conn:
                for name, value in SERVER_SETTINGS.items():
                    conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        cluster = [str(ROOT / "scripts" / "citus_cluster.sh")]
        subprocess.run(cluster + ["stop"], check=True)
        subprocess.run(cluster + ["start", self.db], check=True)
        for shards in sorted({setup["shards"] for setup in setups}):
            db = database(shards)
            for node in nodes:
                with psycopg.connect(dsn(node, "postgres"), autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
                    conn.execute(f"CREATE DATABASE {db}")
                with psycopg.connect(dsn(node, db), autocommit=True) as conn:
                    conn.execute("SET client_min_messages = warning")
                    conn.execute("CREATE EXTENSION citus")
            with psycopg.connect(dsn(nodes[0], db), autocommit=True) as conn:
                conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', %s)", (port,))
                for node in nodes[1:]:
                    conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (node[1],))
                conn.execute("SET client_min_messages = warning")
                conn.execute("CREATE EXTENSION user_metrics")
                conn.execute("SELECT user_metrics.distribute(%s)", (shards,))
                stored = conn.execute("SELECT count(*) FROM pg_dist_shard "
                                      "WHERE logicalrelid = 'user_metrics.users'::regclass").fetchone()[0]
                assert stored == shards, f"{db}: {stored} shards, not {shards}"

        # The same batches to every side, in turn, from empty tables each time.
        sides = {"single": (f"{self.base} dbname={self.db}", [])}
        for setup in setups:
            sides[setup["name"]] = (dsn(nodes[0], database(setup["shards"])),
                                    [f"SET citus.max_cached_conns_per_worker = {setup['cached']}"])
        citus_events = events[: self.args.citus_events]
        sizes = {}
        for size in [int(s) for s in self.args.citus_batch_sizes.split(",")]:
            subset = citus_events[: self.args.citus_single_event_calls] if size == 1 else citus_events
            batches = [json.dumps(subset[i:i + size]) for i in range(0, len(subset), size)]
            runs = {side: [] for side in sides}
            prints = {}
            for _ in range(self.args.citus_runs):
                for side, (dsn_, settings) in sides.items():
                    seconds, prints[side] = self.timed_ingest(dsn_, batches, settings)
                    runs[side].append(seconds)
            one = statistics.median(runs["single"])
            row = {"events": len(subset), "single_events_per_second": round(len(subset) / one),
                   "runs": {side: [round(r, 3) for r in v] for side, v in runs.items()}, "setups": {}}
            for setup in setups:
                dist = statistics.median(runs[setup["name"]])
                row["setups"][setup["name"]] = {
                    "events_per_second": round(len(subset) / dist),
                    "ratio": round(one / dist, 3),
                    "same_result": prints["single"] == prints[setup["name"]],
                }
            sizes[str(size)] = row
            print(f"  batch {size:>6}: single node {row['single_events_per_second']:>8} events/s; Citus "
                  + "; ".join(f"{name} {r['events_per_second']} ({r['ratio']:.2f}x)"
                              for name, r in row["setups"].items()), flush=True)
        out = {"nodes": len(nodes), "runs": self.args.citus_runs,
               "setups": setups, "sizes": sizes,
               "delegation": self.delegation(dsn(nodes[0], database(setups[0]["shards"])),
                                             citus_events[: self.args.citus_single_event_calls])}
        self.results["citus"] = out
        return out

    def delegation(self, coordinator, events):
        """One event per call on Citus, three ways, alternately: ingest_metrics; the
        three statements that store an event, in a function that runs on the
        coordinator (bench/citus_delegation.sql); and the same function distributed
        by the user key (create_distributed_function), which Citus runs on the
        worker that holds the user."""
        template = (ROOT / "bench" / "citus_delegation.sql").read_text()
        valid = [e for e in events if not e["event_id"].startswith("bad-")]
        with psycopg.connect(coordinator, autocommit=True) as conn:
            conn.execute(template)
            conn.execute(template.replace("bench_delegation.one_event(", "bench_delegation.one_event_delegated("))
            conn.execute("SELECT create_distributed_function("
                         "'bench_delegation.one_event_delegated(bigint, text, text, text, numeric)', '$1', "
                         "colocate_with := 'user_metrics.users')")
            keys = dict(conn.execute("SELECT e, user_metrics.user_key(e) FROM unnest(%s::text[]) AS e",
                                     (sorted({e["user"]["email"] for e in valid}),)).fetchall())

        def plain(e):
            return (keys[e["user"]["email"]], e["user"]["email"], e["session"]["id"], e["event_id"],
                    e["metrics"]["talked_time"])

        sides = {
            "ingest_metrics": ("SELECT user_metrics.ingest_metrics(%s::jsonb)", lambda e: (json.dumps(e),)),
            "on the coordinator": ("SELECT bench_delegation.one_event(%s::bigint, %s::text, %s::text, %s::text, %s::numeric)", plain),
            "delegated": ("SELECT bench_delegation.one_event_delegated(%s::bigint, %s::text, %s::text, %s::text, %s::numeric)", plain),
        }
        runs = {side: [] for side in sides}
        for _ in range(self.args.citus_runs):
            for side, (statement, params) in sides.items():
                with psycopg.connect(coordinator, autocommit=True) as conn:
                    conn.execute(f"TRUNCATE {TABLES}, user_metrics.counters")
                    conn.execute("CHECKPOINT")
                    started = time.perf_counter()
                    for e in valid:
                        conn.execute(statement, params(e))
                    runs[side].append(time.perf_counter() - started)
        out = {side: {"calls_per_second": round(len(valid) / statistics.median(r)),
                      "runs": [round(x, 3) for x in r]} for side, r in runs.items()}
        out["calls"] = len(valid)
        print("  one event per call on Citus: " + ", ".join(
            f"{side} {out[side]['calls_per_second']} calls/s" for side in sides), flush=True)
        return out

    def timed_ingest(self, dsn, batches, settings=()):
        """Seconds to send these batches one call each, from empty tables, and the
        fingerprint of what was stored; `settings` are run first (SET statements)."""
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {TABLES}, user_metrics.counters")
            conn.execute("CHECKPOINT")
            for setting in settings:
                conn.execute(setting)
            started = time.perf_counter()
            for batch in batches:
                conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (batch,))
            seconds = time.perf_counter() - started
            return seconds, self.fingerprint(conn)

    # -- COPY -------------------------------------------------------------------
    def copy_limit(self, events):
        """COPY of the already-normalized event rows into the same events table with
        the same indexes and foreign key: the cost of storing the rows themselves."""
        with self.connect() as conn:
            self.empty(conn)
            for i in range(0, len(events), 10_000):
                conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (json.dumps(events[i:i + 10_000]),))
            columns = ("user_key, event_id, session_id, recorded_at, received_at, talked_time, microphone_used, "
                       "speaker_used, voice_sentiment")
            rows = bytearray()
            with conn.cursor().copy(f"COPY (SELECT {columns} FROM user_metrics.events) TO STDOUT") as copy:
                for chunk in copy:
                    rows += chunk
            count = conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]
            runs = []
            for _ in range(3):
                conn.execute("TRUNCATE user_metrics.events")
                conn.execute("CHECKPOINT")
                started = time.perf_counter()
                with conn.cursor().copy(f"COPY user_metrics.events ({columns}) FROM STDIN") as copy:
                    copy.write(bytes(rows))
                runs.append(time.perf_counter() - started)
        seconds = statistics.median(runs)
        self.results["copy"] = {"rows": count, "seconds": round(seconds, 3), "rows_per_second": round(count / seconds)}
        print(f"  COPY: {self.results['copy']['rows_per_second']} rows/s", flush=True)

    # -- against COPY of the same rows, per session shape ------------------------
    SHAPES = {"new session per event": 1, "about 20 events per session": 20}
    STORED_TABLES = ["user_metrics.users", "user_metrics.sessions", "user_metrics.events"]

    def shapes(self):
        """ingest_metrics at 1,000 events per call against a server-side COPY of
        exactly the rows it stored (users, sessions and events, every column, into
        the same tables with every index, constraint and foreign key), alternately,
        from an empty schema and a checkpoint each time; medians of --shape-runs."""
        out = {}
        for label, per_session in self.SHAPES.items():
            events = shaped(self.args.shape_events, per_session, users=self.args.users, seed=self.args.seed)
            batches = [json.dumps(events[i:i + 1000]) for i in range(0, len(events), 1000)]
            ingest_runs, copy_runs = [], []
            with self.connect() as conn:
                for _ in range(self.args.shape_runs):
                    self.empty(conn)
                    wal_before = self.wal(conn)
                    started = time.perf_counter()
                    for batch in batches:
                        conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (batch,))
                    ingest_runs.append(time.perf_counter() - started)
                    ingest_wal = self.wal(conn)[0] - wal_before[0]
                    rows = {}
                    for table in self.STORED_TABLES:
                        data = bytearray()
                        with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                            for chunk in copy:
                                data += chunk
                        rows[table] = bytes(data)
                    counts = self.row_counts(conn)
                    self.empty(conn)
                    wal_before = self.wal(conn)
                    started = time.perf_counter()
                    for table in self.STORED_TABLES:
                        with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                            copy.write(rows[table])
                    copy_runs.append(time.perf_counter() - started)
                    copy_wal = self.wal(conn)[0] - wal_before[0]
                    if self.row_counts(conn) != counts:
                        raise SystemExit(f"COPY stored other rows than ingest_metrics: {counts}")
            ingest_s, copy_s = statistics.median(ingest_runs), statistics.median(copy_runs)
            out[label] = {
                "events": len(events), "users": counts[0], "sessions": counts[1], "stored_events": counts[2],
                "ingest_seconds": round(ingest_s, 3), "copy_seconds": round(copy_s, 3),
                "ingest_events_per_second": round(len(events) / ingest_s),
                "copy_events_per_second": round(len(events) / copy_s),
                "ratio": round(copy_s / ingest_s, 3),
                "wal_bytes_per_event": {"ingest": round(ingest_wal / len(events)), "copy": round(copy_wal / len(events))},
                "runs": {"ingest": [round(r, 3) for r in ingest_runs], "copy": [round(r, 3) for r in copy_runs]},
            }
            print(f"  {label:<28} ingest_metrics {out[label]['ingest_events_per_second']:>7} events/s, COPY of the "
                  f"same rows {out[label]['copy_events_per_second']:>7} events/s: {out[label]['ratio']:.2f}x",
                  flush=True)
        self.results["shapes"] = out

    def row_counts(self, conn):
        return tuple(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in self.STORED_TABLES)

    # -- as the data grows --------------------------------------------------------
    def preload(self, conn, target):
        """Brings the events table to `target` rows with SQL alone: 20 events per
        session, random UUID event ids, users of their own. The foreign keys are not
        checked during the load (session_replication_role), as they hold by
        construction."""
        have = conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]
        conn.execute("SET session_replication_role = replica")
        conn.execute("""
            INSERT INTO user_metrics.users (user_key, email, name)
            SELECT user_metrics.user_key(e), e, 'Preloaded'
            FROM (SELECT format('preload%%s@example.com', n) AS e FROM generate_series(1, %s) AS n) AS p
            ON CONFLICT DO NOTHING""", (self.args.users,))
        chunk = 0
        while have < target:
            sessions = min(50_000, (target - have) // 20)
            conn.execute("""
                WITH s AS (
                    INSERT INTO user_metrics.sessions (user_key, client_session_id, started_at, ended_at,
                                                       event_count, talked_time)
                    SELECT user_metrics.user_key(format('preload%%s@example.com', 1 + (random() * (%s::integer - 1))::int)),
                           format('preload-%%s-%%s', %s::text, n),
                           t, t + interval '30 minutes', 20, 200
                    FROM generate_series(1, %s::integer) AS n,
                         LATERAL (SELECT timestamptz '2026-09-28' + (random() + 0 * n) * interval '56 days' AS t) AS r
                    RETURNING user_key, id, started_at)
                INSERT INTO user_metrics.events (user_key, event_id, session_id, recorded_at, talked_time,
                                                 microphone_used, speaker_used, voice_sentiment)
                SELECT s.user_key, gen_random_uuid()::text, s.id, s.started_at + g * interval '1 minute', 10,
                       true, false, 0.5
                FROM s, generate_series(1, 20) AS g""", (self.args.users, f"{target}-{chunk}", sessions))
            have += sessions * 20
            chunk += 1
        conn.execute("RESET session_replication_role")
        conn.execute("VACUUM ANALYZE user_metrics.users, user_metrics.sessions, user_metrics.events")
        conn.execute("CHECKPOINT")
        return conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]

    @staticmethod
    def wal(conn):
        """WAL written so far, in bytes, and full-page images (pg_stat_wal)."""
        return conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, wal_fpi "
                            "FROM pg_stat_wal").fetchone()

    def growth(self, levels, part_name="growth"):
        """ingest_metrics' rate (about 20 events per session, random UUID event ids,
        1,000 events per call) with `levels` events already stored (0, 1M, 5M and
        10M by default)."""
        out = {}
        with self.connect() as conn:
            self.empty(conn)
            for part, level in enumerate(int(n) for n in levels.split(",")):
                started = time.perf_counter()
                stored = self.preload(conn, level)
                loaded = time.perf_counter() - started
                events = shaped(self.args.growth_events, 20, users=self.args.users, seed=self.args.seed,
                                part=100 + part)
                batches = [json.dumps(events[i:i + 1000]) for i in range(0, len(events), 1000)]
                wal_before = self.wal(conn)
                started = time.perf_counter()
                for batch in batches:
                    conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (batch,))
                seconds = time.perf_counter() - started
                wal_bytes, full_pages = (a - b for a, b in zip(self.wal(conn), wal_before))
                size = conn.execute("SELECT pg_total_relation_size('user_metrics.events')").fetchone()[0]
                out[str(level)] = {"stored_before": stored, "events": len(events), "seconds": round(seconds, 3),
                                   "events_per_second": round(len(events) / seconds),
                                   "wal_bytes_per_event": round(wal_bytes / len(events)),
                                   "full_page_images_per_event": round(full_pages / len(events), 2),
                                   "events_table_bytes": size, "preload_seconds": round(loaded)}
                print(f"  {stored:>9} events stored: {out[str(level)]['events_per_second']:>7} events/s, "
                      f"{out[str(level)]['wal_bytes_per_event']} WAL bytes and "
                      f"{out[str(level)]['full_page_images_per_event']} full-page images per event "
                      f"(events table and indexes {size / 1e9:.2f} GB)", flush=True)
        base = next(iter(out.values()))["events_per_second"]
        for point in out.values():
            point["of_empty"] = round(point["events_per_second"] / base, 3)
        self.results[part_name] = out

    def growth_on_defaults(self):
        """The same growth on PostgreSQL's default settings (shared_buffers 128 MB,
        max_wal_size 1 GB, checkpoint_timeout 5 min), with 0 and 5M events stored;
        the benchmark's settings are put back afterwards."""
        with psycopg.connect(f"{self.base} dbname=postgres", autocommit=True) as conn:
            for name in SERVER_SETTINGS:
                conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
        self.restart()
        try:
            self.growth(self.args.growth_defaults_levels, "growth_on_defaults")
        finally:
            with psycopg.connect(f"{self.base} dbname=postgres", autocommit=True) as conn:
                for name, value in SERVER_SETTINGS.items():
                    conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name),
                                                                            sql.Literal(value)))
            self.restart()

    # -- many clients -----------------------------------------------------------
    # One event per call (or per transaction), the same events on every side.
    ONE_EVENT_SIDES = {
        "user_metrics": "one_event_per_call.sql",
        "seed SQL": "seed_per_event.sql",
        "reference": "one_event_per_call.sql",
    }

    def one_event_script(self, side):
        text = (ROOT / "bench" / self.ONE_EVENT_SIDES[side]).read_text()
        if side in IMPLEMENTATIONS:
            text = text.replace(":function(", IMPLEMENTATIONS[side] + "(")
        return text

    def pgbench(self):
        """One event per call from 1, 8 and 16 pgbench clients (-M prepared):
        ingest_metrics, the seed's three statements in a transaction of their own
        (bench/seed_per_event.sql, into the seed's tables), and the reference."""
        out = {}
        for clients in [int(c) for c in self.args.pgbench_clients.split(",")]:
            for name in self.ONE_EVENT_SIDES:
                with self.connect() as conn:
                    self.empty(conn)
                    conn.execute("TRUNCATE flask_ref.events, flask_ref.sessions, flask_ref.users")
                    conn.execute("CHECKPOINT")
                with tempfile.TemporaryDirectory() as tmp:
                    os.chmod(tmp, 0o777)
                    path = Path(tmp) / "one_event.sql"
                    path.write_text(self.one_event_script(name))
                    run = subprocess.run(
                        [f"{self.args.pg_bindir}/pgbench", "-n", "-M", "prepared", "-h", self.args.socket_dir,
                         "-p", str(self.args.port), "-U", "postgres", "-c", str(clients),
                         "-j", str(min(clients, 2)), "-T", str(self.args.pgbench_seconds), "-f", str(path),
                         "-D", f"users={self.args.users}", "--log", f"--log-prefix={tmp}/log", self.db],
                        check=True, capture_output=True, text=True, cwd=tmp)
                    latencies = []
                    for log in Path(tmp).glob("log*"):
                        for line in log.read_text().splitlines():
                            fields = line.split()
                            latencies.append(int(fields[2]) / 1000.0)
                tps = next(float(line.split("=")[1].split()[0]) for line in run.stdout.splitlines()
                           if line.startswith("tps ="))
                failed = next((line for line in run.stdout.splitlines() if line.startswith("number of failed")), "")
                latencies.sort()
                out.setdefault(str(clients), {})[name] = {
                    "tps": round(tps),
                    "latency_ms": {
                        "p50": round(percentile(latencies, 50), 2),
                        "p95": round(percentile(latencies, 95), 2),
                        "p99": round(percentile(latencies, 99), 2),
                    },
                }
                print(f"  pgbench {clients:>2} clients: {name:<13} {round(tps):>7} tps, "
                      f"p99 {out[str(clients)][name]['latency_ms']['p99']} ms {failed}", flush=True)
        self.results["pgbench"] = out

    # -- reports ----------------------------------------------------------------
    def load(self, target):
        with self.connect() as conn:
            have = conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]
        if have == 0:
            with self.connect() as conn:
                self.empty(conn)
        part = have // 200_000
        started = time.perf_counter()
        with self.connect() as conn:
            while have < target:
                events = generate(events=min(200_000, target - have), users=self.args.users,
                                  sessions=self.args.sessions, seed=self.args.seed, part=100 + part,
                                  duplicate_share=0, invalid_share=0)
                for i in range(0, len(events), 10_000):
                    conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)",
                                 (json.dumps(events[i:i + 10_000]),))
                have += len(events)
                part += 1
            conn.execute("VACUUM ANALYZE user_metrics.users, user_metrics.sessions, user_metrics.events")
            count = conn.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0]
        print(f"  loaded {count} events in {time.perf_counter() - started:.0f} s", flush=True)
        return count

    def report_latencies(self, size_label):
        with self.connect() as conn:
            session_ids = [r[0] for r in conn.execute(
                "SELECT client_session_id FROM user_metrics.sessions ORDER BY id LIMIT 1000")]
            week_end = conn.execute(
                "SELECT date_trunc('day', max(started_at)) + interval '1 day' FROM user_metrics.sessions").fetchone()[0]
            email = conn.execute("SELECT email FROM user_metrics.users ORDER BY user_key LIMIT 1").fetchone()[0]
        calls = {
            "generate_weekly_report": ("SELECT count(*) FROM user_metrics.generate_weekly_report(%s)", lambda i: (week_end,)),
            "get_session_details": ("SELECT count(*) FROM user_metrics.get_session_details(%s)",
                                    lambda i: (session_ids[i * 37 % len(session_ids)],)),
            "aggregate_user_metrics (one user)": ("SELECT count(*) FROM user_metrics.aggregate_user_metrics(%s)",
                                                  lambda i: (email,)),
            "aggregate_user_metrics (all users)": ("SELECT count(*) FROM user_metrics.aggregate_user_metrics()",
                                                   lambda i: ()),
            "health": ("SELECT user_metrics.health()", lambda i: ()),
        }
        out = {}
        for name, (statement, params) in calls.items():
            # Cold: a restarted server (empty shared buffers and plan caches), first call.
            self.restart()
            with self.connect() as conn:
                started = time.perf_counter()
                conn.execute(statement, params(0)).fetchall()
                cold = (time.perf_counter() - started) * 1000
                warm = []
                for i in range(self.args.report_calls):
                    started = time.perf_counter()
                    conn.execute(statement, params(i)).fetchall()
                    warm.append((time.perf_counter() - started) * 1000)
            out[name] = {"cold_ms": round(cold, 2), "median_ms": round(statistics.median(warm), 3),
                         "p95_ms": round(percentile(sorted(warm), 95), 3), "calls": len(warm)}
            print(f"  {size_label} {name:<36} cold {out[name]['cold_ms']:>8} ms  median {out[name]['median_ms']:>8} ms"
                  f"  p95 {out[name]['p95_ms']:>8} ms", flush=True)
        return out

    def reports(self):
        out = {}
        with self.connect() as conn:
            self.empty(conn)
        sizes = [self.args.report_events] + ([10_000_000] if self.args.big else [])
        for size in sizes:
            count = self.load(size)
            out[str(size)] = {"events": count, "reports": self.report_latencies(f"{count:>9} events:")}
        self.results["reports"] = out

    # -- memory ---------------------------------------------------------------
    def peak_growth(self, statement, payload):
        """Peak private memory (RssAnon) a fresh backend gains while running one
        statement, sampled every 5 ms from outside."""
        with self.connect() as conn:
            conn.execute("SELECT user_metrics.ingest_metrics('[]')")
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            baseline = rss_anon_kb(pid)
            peak = [baseline]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    try:
                        peak[0] = max(peak[0], rss_anon_kb(pid))
                    except OSError:
                        return
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample)
            sampler.start()
            conn.execute(statement, (payload,))
            done.set()
            sampler.join()
        return (peak[0] - baseline) * 1024

    def memory(self):
        """What one 100,000-event call costs in backend memory, next to what
        PostgreSQL itself needs to parse the same jsonb argument."""
        events = generate(events=100_000, users=self.args.users, sessions=self.args.sessions,
                          seed=self.args.seed, part=50)
        batch = json.dumps(events)
        with self.connect() as conn:
            self.empty(conn)
        parse = self.peak_growth("SELECT jsonb_typeof(%s::jsonb)", batch)
        ingest = self.peak_growth("SELECT user_metrics.ingest_metrics(%s::jsonb)", batch)
        payload = len(batch.encode())
        self.results["memory"] = {
            "payload_bytes": payload,
            "jsonb_parse_growth_bytes": parse,
            "ingest_growth_bytes": ingest,
            "ingest_beyond_parse_bytes": ingest - parse,
            "ratio_beyond_parse": round((ingest - parse) / payload, 2),
            "ratio_total": round(ingest / payload, 2),
        }
        print(f"  100,000-event call: payload {payload / 1e6:.1f} MB; parsing the jsonb argument alone "
              f"grows a backend by {parse / 1e6:.1f} MB, the whole call by {ingest / 1e6:.1f} MB", flush=True)


def rss_anon_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise OSError("no RssAnon")


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def table(results):
    lines = []
    m = results["machine"]
    lines.append(f"machine: {m['cores']} cores, {m['platform']}")
    lines.append(f"server:  {m['postgres'].split(',')[0]}; " + ", ".join(f"{k}={v}" for k, v in m["settings"].items()))
    lines.append("")
    if "ingest" in results:
        copy = results.get("copy", {}).get("rows_per_second")
        lines.append(f"{'ingestion, events/s':<28}{'user_metrics':>14}{'reference':>12}{'ratio':>8}{'vs COPY':>9}{'same result':>13}")
        for size, r in results["ingest"].items():
            um, ref = r["user_metrics"]["events_per_second"], r["reference"]["events_per_second"]
            vs_copy = f"{um / copy:.2f}x" if copy else "-"
            lines.append(f"{'batch of ' + size:<28}{um:>14}{ref:>12}{um / ref:>7.2f}x{vs_copy:>9}{str(r['same_result']):>13}")
        if copy:
            lines.append(f"{'COPY of the event rows':<28}{copy:>14} rows/s")
        lines.append("")
    if "shapes" in results:
        lines.append(f"{'1,000 events per call':<30}{'ingest_metrics':>16}{'COPY same rows':>16}{'ratio':>8}")
        for label, r in results["shapes"].items():
            lines.append(f"{label:<30}{r['ingest_events_per_second']:>10} ev/s{r['copy_events_per_second']:>10} ev/s"
                         f"{r['ratio']:>7.2f}x")
        lines.append("")
    for part, title in (("growth", "as the data grows"), ("growth_on_defaults", "on PostgreSQL's default settings")):
        if part not in results:
            continue
        lines.append(f"{title} (about 20 events per session, UUID event ids, 1,000 per call)")
        for level, r in results[part].items():
            lines.append(f"  {r['stored_before']:>10} events stored{r['events_per_second']:>10} events/s"
                         f"{r['of_empty']:>7.2f}x of empty{r['wal_bytes_per_event']:>8} WAL bytes/event"
                         f"{r['full_page_images_per_event']:>6} full pages/event")
        lines.append("")
    if "citus" in results:
        c = results["citus"]
        names = [setup["name"] for setup in c["setups"]]
        lines.append(f"ingestion on Citus ({c['nodes']} nodes on these same cores), events/s and against the "
                     f"single node, medians of {c['runs']} alternating runs; a Citus side is SHARDS shards, "
                     f"CACHED cached connections per worker")
        lines.append(f"{'':<16}{'single node':>12}" + "".join(f"{name:>24}" for name in names)
                     + f"{'same result':>13}")
        for size, r in c["sizes"].items():
            cells = ""
            for name in names:
                side = r["setups"][name]
                cells += f"{side['events_per_second']:>16} ({side['ratio']:.2f}x)"
            same = all(r["setups"][name]["same_result"] for name in names)
            lines.append(f"{'batch of ' + size:<16}{r['single_events_per_second']:>12}{cells}{str(same):>13}")
        d = c.get("delegation")
        if d:
            lines.append(f"one event per call on Citus ({names[0]}), calls/s ({d['calls']} calls): ingest_metrics "
                         f"{d['ingest_metrics']['calls_per_second']}; three statements on the coordinator "
                         f"{d['on the coordinator']['calls_per_second']}, delegated to the user's worker "
                         f"{d['delegated']['calls_per_second']} "
                         f"({d['delegated']['calls_per_second'] / d['on the coordinator']['calls_per_second']:.2f}x)")
        lines.append("")
    if "pgbench" in results:
        lines.append(f"{'one event per call':<22}{'user_metrics':>18}{'seed SQL':>18}{'reference':>18}"
                     f"{'vs seed':>9}{'vs ref':>8}")
        for clients, r in results["pgbench"].items():
            um, seed, ref = r["user_metrics"], r["seed SQL"], r["reference"]
            lines.append(f"{clients + ' clients, tps (p99 ms)':<22}"
                         + "".join(f"{side['tps']:>10} ({side['latency_ms']['p99']:>5})" for side in (um, seed, ref))
                         + f"{um['tps'] / seed['tps']:>8.2f}x{um['tps'] / ref['tps']:>7.2f}x")
        lines.append("")
    if "reports" in results:
        for size, r in results["reports"].items():
            lines.append(f"reports at {r['events']} events: cold / median / p95, ms")
            for name, v in r["reports"].items():
                lines.append(f"  {name:<38}{v['cold_ms']:>10}{v['median_ms']:>10}{v['p95_ms']:>10}")
        lines.append("")
    if "memory" in results:
        mem = results["memory"]
        lines.append(f"memory, one 100,000-event call ({mem['payload_bytes'] / 1e6:.1f} MB of JSON), peak backend growth:")
        lines.append(f"  PostgreSQL parsing the jsonb argument alone  {mem['jsonb_parse_growth_bytes'] / 1e6:>7.1f} MB")
        lines.append(f"  the whole ingest_metrics call                {mem['ingest_growth_bytes'] / 1e6:>7.1f} MB "
                     f"({mem['ratio_total']}x the payload)")
        lines.append(f"  ingest_metrics beyond the parse              {mem['ingest_beyond_parse_bytes'] / 1e6:>7.1f} MB "
                     f"({mem['ratio_beyond_parse']}x the payload)")
    return "\n".join(lines)


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    sizes = list(results["ingest"].keys())
    um = [results["ingest"][s]["user_metrics"]["events_per_second"] for s in sizes]
    ref = [results["ingest"][s]["reference"]["events_per_second"] for s in sizes]
    x = range(len(sizes))
    axes[0].bar([i - 0.2 for i in x], um, width=0.4, label="user_metrics")
    axes[0].bar([i + 0.2 for i in x], ref, width=0.4, label="PL/pgSQL reference")
    if "copy" in results:
        axes[0].axhline(results["copy"]["rows_per_second"], color="grey", linestyle="--", label="COPY (rows/s)")
    axes[0].set_xticks(list(x), [f"batch {s}" for s in sizes])
    axes[0].set_ylabel("events per second")
    axes[0].set_title("Ingestion")
    axes[0].legend()
    if "pgbench" in results:
        clients = list(results["pgbench"].keys())
        xs = range(len(clients))
        axes[1].bar([i - 0.2 for i in xs], [results["pgbench"][c]["user_metrics"]["tps"] for c in clients],
                    width=0.4, label="user_metrics")
        axes[1].bar([i + 0.2 for i in xs], [results["pgbench"][c]["reference"]["tps"] for c in clients],
                    width=0.4, label="PL/pgSQL reference")
        axes[1].set_xticks(list(xs), [f"{c} clients" for c in clients])
        axes[1].set_ylabel("calls per second (one event each)")
        axes[1].set_title("Many clients")
        axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def growth_chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = list(results["growth"].values())
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot([p["stored_before"] / 1e6 for p in points], [p["events_per_second"] for p in points], marker="o",
            label="ingest_metrics, 1,000 events per call")
    base = points[0]["events_per_second"]
    ax.axhline(0.85 * base, color="grey", linestyle="--", label="0.85x of the empty-database rate")
    ax.set_xlabel("events already stored (millions)")
    ax.set_ylabel("events per second")
    ax.set_ylim(bottom=0)
    ax.set_title("Ingestion as the data grows (random UUID event ids)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    args = parse_args()
    skip = set(filter(None, args.skip.split(",")))
    bench = Bench(args)
    print("Preparing the benchmark database", flush=True)
    bench.prepare_database()
    events = []
    if not {"ingest", "citus", "copy"} <= skip:
        print(f"Generating {args.events} events (seed {args.seed})", flush=True)
        events = generate(events=args.events, users=args.users, sessions=args.sessions, seed=args.seed)
    bench.results["workload"] = {"events": args.events, "users": args.users, "sessions": args.sessions,
                                 "seed": args.seed, "duplicate_share": 0.01, "invalid_share": 0.005}
    if "ingest" not in skip:
        print("Ingestion, from an empty schema each time", flush=True)
        bench.ingest(events)
    if "citus" not in skip and args.citus_port:
        print("Ingestion on Citus (a coordinator and two workers on this machine)", flush=True)
        bench.citus(events)
    if "copy" not in skip:
        bench.copy_limit(events)
    if "shapes" not in skip:
        print("Against COPY of the same rows, 1,000 events per call, per session shape", flush=True)
        bench.shapes()
    if "growth" not in skip:
        print("As the data grows", flush=True)
        bench.growth(args.growth_levels)
    if "growth-defaults" not in skip:
        print("As the data grows, on PostgreSQL's default settings", flush=True)
        bench.growth_on_defaults()
    if "pgbench" not in skip:
        print("Many clients (pgbench), one event per call", flush=True)
        bench.pgbench()
    if "memory" not in skip:
        bench.memory()
    if "reports" not in skip:
        print("Report latencies", flush=True)
        bench.reports()

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(bench.results, indent=2)
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    if "ingest" in bench.results:
        chart(bench.results, RESULTS / "ingest.png")
    if "growth" in bench.results:
        growth_chart(bench.results, RESULTS / "growth.png")
    report = table(bench.results)
    (RESULTS / "latest.txt").write_text(report + "\n")
    print()
    print(report)


if __name__ == "__main__":
    sys.exit(main())
