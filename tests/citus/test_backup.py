"""Backups of a distributed installation: users, sessions and events are no longer
the extension's configuration tables but Citus's, so a backup is a data-only dump
of schema user_metrics taken on the coordinator (Citus reads every shard), and it
restores into a fresh CREATE EXTENSION user_metrics, single-node or on a Citus
coordinator before distribute()."""
from citus import connect, fingerprint
from clusters import drop_database, fresh_database, run_tool
from test_same_results import REPORTS


def test_a_data_only_dump_of_the_coordinator_restores_into_a_fresh_installation(loaded, single_base, tmp_path):
    citus, single, _ = loaded
    dump = tmp_path / "citus.dump"
    run_tool(citus, "pg_dump", "--data-only", "--schema=user_metrics", "-Fc", "-f", dump, "um_citus")
    restored = fresh_database(single_base, "um_restored")
    try:
        run_tool(restored, "pg_restore", "--data-only", "--exit-on-error", "-d", "um_restored", dump)
        with connect(restored) as r, connect(single) as s:
            for conn in (r, s):
                conn.execute("SET TimeZone = 'UTC'")
            compared = 0
            for name, query, args in REPORTS:
                if name == "list_rejected_events" or name.startswith("health"):
                    continue
                assert fingerprint(r, query, args) == fingerprint(s, query, args), name
                compared += 1
            assert compared > 100
            # The quarantine and the counters come back too, and ingestion goes on.
            assert fingerprint(r, "SELECT batch_index, event_id, error_code, payload FROM "
                                  "user_metrics.rejected_events", sort=True) == \
                fingerprint(s, "SELECT batch_index, event_id, error_code, payload FROM "
                               "user_metrics.rejected_events", sort=True)
            health = "SELECT h->'users', h->'sessions', h->'events', h->'rejected' FROM user_metrics.health() AS h"
            assert r.execute(health).fetchone() == s.execute(health).fetchone()
            summary = r.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (
                '{"event_id": "after-restore", "user": {"email": "ana@x"}, '
                '"session": {"id": "s1", "started_at": "2026-11-20T10:00:00Z"}, '
                '"metrics": {"talked_time": 1}}',)).fetchone()[0]
            assert summary["accepted"] == 1
    finally:
        drop_database(single_base, "um_restored")
