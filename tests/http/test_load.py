"""The load run: 32 HTTP connections at once against a pool of fewer database
connections, overlapping users and sessions, every batch sent twice (some
reversed). Afterwards the totals, read back over HTTP, must be exactly those
computed here, and no request may have failed."""
import json
import os
import re
import threading
from collections import defaultdict
from decimal import Decimal

import requests

from events import overlapping_workload

CONNECTIONS = 32
EVENTS = int(os.environ.get("USER_METRICS_HTTP_LOAD_EVENTS", "20000"))
USERS = 16
SESSIONS = 60


def build_workload(seed):
    # Decimals with three places: exact in the database, and summed exactly here.
    return overlapping_workload(seed, EVENTS, USERS, SESSIONS,
                                talked=lambda rng: Decimal(rng.randrange(0, 600_000)) / 1000,
                                batch_sizes=[1, 1, 5, 40, 200])


def body_of(batch):
    """The batch as JSON, each Decimal written as a JSON number with its digits."""
    text = json.dumps(batch, default=lambda d: f"decimal:{d}")
    return re.sub(r'"decimal:([0-9.]+)"', r"\1", text)


def test_32_connections_every_batch_twice_exact_totals(server, db):
    owner, events, batches = build_workload(seed=2026)
    totals = defaultdict(int)
    failures = []
    lock = threading.Lock()

    def worker(mine):
        with requests.Session() as http:
            for batch in mine:
                response = http.post(server.url + "/ingest", data=body_of(batch), headers=server.writer, timeout=60)
                with lock:
                    if response.status_code != 200:
                        failures.append(response.text)
                        continue
                    for key in ("accepted", "duplicates", "rejected"):
                        totals[key] += response.json()[key]

    threads = [threading.Thread(target=worker, args=(batches[k::CONNECTIONS],)) for k in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert dict(totals) == {"accepted": EVENTS, "duplicates": EVENTS, "rejected": 0}

    expected = defaultdict(lambda: [Decimal(0), set()])
    for e in events:
        user = e["user"]["email"].lower()
        expected[user][0] += Decimal(e["metrics"]["talked_time"])
        expected[user][1].add(e["session"]["id"])
    with requests.Session() as http:
        for user, (talked, sessions) in expected.items():
            response = http.get(f"{server.url}/users/{user}/metrics", headers=server.reader, timeout=30)
            assert response.status_code == 200
            got = json.loads(response.text, parse_float=Decimal)
            assert (got["total_talked_time"], got["session_count"]) == (talked, len(sessions)), user
        health = http.get(server.url + "/health", headers=server.reader, timeout=30).json()
    assert (health["events"], health["users"]) == (EVENTS, len(expected))
    assert health["sessions"] == len({(e["user"]["email"].lower(), e["session"]["id"]) for e in events})
    stored = db.execute("SELECT count(*), sum(talked_time) FROM user_metrics.events").fetchone()
    assert stored == (EVENTS, sum(Decimal(e["metrics"]["talked_time"]) for e in events))
