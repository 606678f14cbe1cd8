"""Distributed or not, the same calls return the same results: the sample and a
50,000-event workload were sent to both installations (conftest.py), and every
report is compared by fingerprint (the md5 of its rows in the order returned)."""
import random

import pytest

from citus import connect, fingerprint
from load import SAMPLE, WORKLOAD

# Users and sessions to look at one by one: those of the sample and a
# deterministic draw from the workload, in the forms clients send.
rng = random.Random(3)
VALID = [e for e in SAMPLE + WORKLOAD if not e["event_id"].startswith("bad-")]
PICKED = rng.sample(VALID, 80)
EMAILS = sorted({e["user"]["email"] for e in PICKED})
SESSIONS = sorted({(e["session"]["id"], e["user"]["email"]) for e in PICKED})
WEEK_ENDS = ["2026-10-05", "2026-10-19", "2026-11-02", "2026-11-16", "2026-11-23", "2026-11-09"]

REPORTS = [
    ("aggregate_user_metrics, all users", "SELECT * FROM user_metrics.aggregate_user_metrics()", ()),
    ("aggregate_user_metrics, all users, one week",
     "SELECT * FROM user_metrics.aggregate_user_metrics(NULL, '2026-11-09', '2026-11-16')", ()),
    ("health counts", "SELECT h->'users', h->'sessions', h->'events', h->'rejected' "
                      "FROM user_metrics.health() AS h", ()),
    ("list_rejected_events", "SELECT id, batch_index, event_id, error_code, error_message, payload "
                             "FROM user_metrics.list_rejected_events(max_rows => 100000)", ()),
] + [
    (f"generate_weekly_report({end})", "SELECT * FROM user_metrics.generate_weekly_report(%s)", (end,))
    for end in WEEK_ENDS
] + [
    (f"generate_weekly_report({end}, {tz})", "SELECT * FROM user_metrics.generate_weekly_report(%s::date, %s)",
     (end, tz))
    for end, tz in [("2026-11-16", "Europe/Lisbon"), ("2026-11-02", "America/New_York"),
                    ("2026-10-19", "Asia/Tokyo")]
] + [
    (f"aggregate_user_metrics({email})", "SELECT * FROM user_metrics.aggregate_user_metrics(%s)",
     (email.upper(),))
    for email in EMAILS
] + [
    (f"get_session_details({sid})", "SELECT * FROM user_metrics.get_session_details(%s)", (sid,))
    for sid, _ in SESSIONS
] + [
    (f"get_session_details({sid}, {email})", "SELECT * FROM user_metrics.get_session_details(%s, %s)",
     (sid, email))
    for sid, email in SESSIONS
]


def test_both_loads_reported_the_same(loaded):
    _, _, (on_citus, on_single) = loaded
    assert on_citus == on_single
    # The workload's repeats and invalid events are there to be seen.
    assert on_citus["duplicates"] > 500 and on_citus["rejected"] > 300, on_citus
    assert on_citus["accepted"] > 45_000, on_citus


@pytest.mark.parametrize("name, query, args", REPORTS, ids=[r[0] for r in REPORTS])
def test_every_report_is_the_same_distributed(loaded, name, query, args):
    citus, single, _ = loaded
    with connect(citus) as c, connect(single) as s:
        for conn in (c, s):
            conn.execute("SET TimeZone = 'UTC'")
        expected = fingerprint(s, query, args)
        assert expected[0] > 0, f"{name} returns rows on the single node"
        assert fingerprint(c, query, args) == expected, name


def test_every_stored_row_is_the_same_distributed(loaded):
    """Row for row, apart from what differs by nature (ids drawn from each node's
    sequence, arrival times)."""
    citus, single, _ = loaded
    queries = [
        "SELECT email, name, user_key FROM user_metrics.users ORDER BY user_key",
        "SELECT user_key, client_session_id, started_at, ended_at, device, event_count, talked_time, "
        "microphone_used, speaker_used, sentiment_sum, sentiment_count FROM user_metrics.sessions "
        "ORDER BY user_key, client_session_id",
        # recorded_at is left out: it is the arrival time for events sent without it.
        "SELECT e.user_key, s.client_session_id, e.event_id, e.talked_time, "
        "e.microphone_used, e.speaker_used, e.voice_sentiment FROM user_metrics.events AS e "
        "JOIN user_metrics.sessions AS s ON s.user_key = e.user_key AND s.id = e.session_id "
        "ORDER BY e.user_key, e.event_id",
    ]
    with connect(citus) as c, connect(single) as s:
        for conn in (c, s):
            conn.execute("SET TimeZone = 'UTC'")
        for query in queries:
            expected = fingerprint(s, query, sort=True)
            assert expected[0] > 1000
            assert fingerprint(c, query, sort=True) == expected, query
