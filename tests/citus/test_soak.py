"""Eight connections ingest at once into the distributed tables, every batch sent
twice (some reversed), batches of mixed sizes shuffled: every event is stored
once, and the totals are exact."""
import os
from collections import defaultdict
from decimal import Decimal

from citus import connect, drop_citus_database, fresh_citus_database
from test_concurrency import build_workload, send_concurrently

CONNECTIONS = 8
EVENTS = int(os.environ.get("USER_METRICS_CITUS_SOAK_EVENTS", "6000"))


def test_eight_connections_sending_every_batch_twice_store_every_event_once(monkeypatch):
    import test_concurrency
    monkeypatch.setattr(test_concurrency, "EVENTS", EVENTS)
    _, events, batches = build_workload(seed=777)
    url = fresh_citus_database("um_citus_soak")
    try:
        with connect(url) as conn:
            conn.execute("CREATE EXTENSION user_metrics")
            conn.execute("SELECT user_metrics.distribute(8)")

        totals, failures = send_concurrently(url, batches, CONNECTIONS)
        assert failures == []
        assert totals == {"accepted": EVENTS, "duplicates": EVENTS, "rejected": 0}
        print(f"Citus soak: {CONNECTIONS} connections x {EVENTS} events x 2 sends ({len(batches)} calls)")

        expected = defaultdict(lambda: [0, Decimal(0)])
        for e in events:
            key = (e["user"]["email"].lower(), e["session"]["id"])
            expected[key][0] += 1
            expected[key][1] += Decimal(str(e["metrics"]["talked_time"]))
        with connect(url) as conn:
            stored = {(email, sid): [count, talked] for email, sid, count, talked in conn.execute(
                "SELECT u.email, s.client_session_id, s.event_count, s.talked_time "
                "FROM user_metrics.sessions AS s JOIN user_metrics.users AS u ON u.user_key = s.user_key")}
            assert stored == dict(expected)
            assert conn.execute("SELECT count(*), sum(talked_time) FROM user_metrics.events").fetchone() == \
                (EVENTS, sum((Decimal(str(e["metrics"]["talked_time"])) for e in events), Decimal(0)))
            health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
            assert (health["events"], health["sessions"], health["users"]) == \
                (EVENTS, len(expected), len({email for email, _ in expected}))
    finally:
        drop_citus_database("um_citus_soak")
