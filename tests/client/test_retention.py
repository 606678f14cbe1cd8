"""purge() scheduled with pg_cron (Debian's postgresql-15-cron) on a cluster of its
own that preloads it, as the README describes: the job runs, old sessions and
their events go, recent ones stay."""
import subprocess
import time

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import CLUSTER_SH, RUN_DIR, extra_port, fresh_cluster, main_cluster
from events import event

pytestmark = pytest.mark.packaging


def test_purge_on_a_pg_cron_schedule():
    name = f"{main_cluster()[0]}-cron"
    with fresh_cluster(name, extra_port(3)) as dsn:
        # pg_cron, loaded at start, running its jobs in background workers (no
        # connection to open) in the database cron.database_name, postgres by default.
        with open(RUN_DIR / name / "data" / "postgresql.conf", "a") as conf:
            conf.write("shared_preload_libraries = 'pg_cron'\ncron.use_background_workers = on\n")
        subprocess.run([CLUSTER_SH, "stop", name], check=True)
        subprocess.run([CLUSTER_SH, "start", name, str(extra_port(3))], check=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_cron")
            conn.execute("CREATE EXTENSION user_metrics")
            old = conn.execute("SELECT to_char(now() - interval '400 days', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SSOF')").fetchone()[0] + ":00"
            recent = conn.execute("SELECT to_char(now() - interval '1 day', "
                                  "'YYYY-MM-DD\"T\"HH24:MI:SSOF')").fetchone()[0] + ":00"
            summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([
                event("old-1", "ana@example.com", "s-old", old, 10),
                event("old-2", "ana@example.com", "s-old", old, 5),
                event("new-1", "ana@example.com", "s-new", recent, 7),
            ]),)).fetchone()[0]
            assert summary["accepted"] == 3, summary
            # Every minute, one batch: the README's schedule.
            conn.execute("SELECT cron.schedule('user_metrics_purge', '* * * * *', "
                         "$$SELECT user_metrics.purge('1 year')$$)")
            deadline = time.monotonic() + 150
            while conn.execute("SELECT count(*) FROM cron.job_run_details "
                               "WHERE status = 'succeeded'").fetchone()[0] == 0:
                failed = conn.execute("SELECT return_message FROM cron.job_run_details "
                                      "WHERE status = 'failed'").fetchall()
                assert failed == [], failed
                assert time.monotonic() < deadline, "the pg_cron job did not run"
                time.sleep(2)
            assert conn.execute("SELECT client_session_id, event_count FROM user_metrics.sessions"
                                ).fetchall() == [("s-new", 1)]
            assert conn.execute("SELECT (h->>'events')::int FROM user_metrics.health() AS h"
                                ).fetchone()[0] == 1
            conn.execute("SELECT cron.unschedule('user_metrics_purge')")
