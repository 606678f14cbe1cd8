"""Read-only servers and transactions: on a hot standby (a real one, made with
pg_basebackup -R from the test cluster) and in a read-only transaction on the
primary, the functions that write refuse at once with SQLSTATE 25006 and a
message naming them, whatever the batch holds; the reports, health() and the
quarantine listing keep working on the standby."""
import time

import psycopg
import pytest
from psycopg.types.json import Jsonb

from clusters import drop_database, extra_port, fresh_database, main_cluster, standby_of_test_cluster
from events import event

DATABASE = "user_metrics_standby"
STORED = [
    event("h1", "ana@example.com", "hs1", "2026-11-20T09:00:00Z", 10, user__name="Ana"),
    event("h2", "bob@example.com", "hs2", "2026-11-21T09:00:00Z", 5),
]
INVALID = event("h-bad", "bob@example.com", "hs2", "2026-11-21T09:00:00", 5)
NEW = event("h3", "cy@example.com", "hs3", "2026-11-22T09:00:00Z", 1)
REPORTS = [
    "SELECT * FROM user_metrics.aggregate_user_metrics()",
    "SELECT * FROM user_metrics.get_session_details('hs1')",
    "SELECT * FROM user_metrics.generate_weekly_report('2026-11-23T00:00:00Z')",
    "SELECT event_id, error_code, payload FROM user_metrics.list_rejected_events()",
]


def writes(rejected_id):
    """Each call that writes, with what it would write. Batches of only
    duplicates, and ids that are not quarantined, would change nothing: they are
    refused all the same."""
    return {
        "ingest_metrics, new events": ("ingest_metrics", "SELECT user_metrics.ingest_metrics(%s)",
                                       (Jsonb([NEW]),)),
        "ingest_metrics, only duplicates": ("ingest_metrics",
                                            "SELECT user_metrics.ingest_metrics(%s)",
                                            (Jsonb(STORED),)),
        "ingest_metrics, raise mode": ("ingest_metrics",
                                       "SELECT user_metrics.ingest_metrics(%s, 'raise')",
                                       (Jsonb([NEW]),)),
        "replay_rejected": ("replay_rejected", "SELECT user_metrics.replay_rejected(%s)",
                            ([rejected_id],)),
        "replay_rejected, unknown id": ("replay_rejected",
                                        "SELECT user_metrics.replay_rejected(%s)", ([-1],)),
        "discard_rejected": ("discard_rejected", "SELECT user_metrics.discard_rejected(%s)",
                             ([rejected_id],)),
        "resync_sequences": ("resync_sequences",
                             "SELECT * FROM user_metrics.resync_sequences()", None),
    }


@pytest.fixture(scope="module")
def primary(dsn):
    url = fresh_database(dsn, DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(STORED + [INVALID]),))
        rejected_id = conn.execute("SELECT id FROM user_metrics.rejected_events").fetchone()[0]
        reports = [conn.execute(sql).fetchall() for sql in REPORTS]
    yield url, rejected_id, reports
    drop_database(dsn, DATABASE)


@pytest.fixture(scope="module")
def standby(primary):
    name, _ = main_cluster()
    with standby_of_test_cluster(f"{name}-standby", extra_port(1)) as other:
        url = psycopg.conninfo.make_conninfo(other, dbname=DATABASE)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        yield url


def call(url, sql, params, read_only=False):
    with psycopg.connect(url) as conn:
        if read_only:
            conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(sql, params)


CASES = sorted(writes(0))


@pytest.mark.parametrize("case", CASES)
def test_a_write_on_a_standby_is_refused_first_with_25006(primary, standby, case):
    url, rejected_id, _ = primary
    function, sql, params = writes(rejected_id)[case]
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as raised:
        call(standby, sql, params)
    message = raised.value.diag.message_primary
    assert f"user_metrics.{function}()" in message and "recovery" in message, message
    assert "primary" in (raised.value.diag.message_hint or "")


@pytest.mark.parametrize("case", CASES)
def test_a_write_in_a_read_only_transaction_is_refused_first_with_25006(primary, case):
    url, rejected_id, _ = primary
    function, sql, params = writes(rejected_id)[case]
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as raised:
        call(url, sql, params, read_only=True)
    message = raised.value.diag.message_primary
    assert f"user_metrics.{function}()" in message and "read-only transaction" in message, message
    # Nothing changed: the quarantined event is still there.
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM user_metrics.rejected_events WHERE id = %s",
                            (rejected_id,)).fetchone()[0] == 1


def test_reports_health_and_the_quarantine_listing_work_on_a_standby(primary, standby):
    _, _, reports = primary
    with psycopg.connect(standby) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        assert [conn.execute(sql).fetchall() for sql in REPORTS] == reports
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
        assert health["status"] == "ok"


def test_the_standby_follows_what_the_primary_stores(primary, standby):
    url, _, _ = primary
    with psycopg.connect(url, autocommit=True) as conn:
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)",
                               (Jsonb([event("h4", "ana@example.com", "hs1",
                                             "2026-11-20T09:00:00Z", 2)]),)).fetchone()[0]
        assert summary["accepted"] == 1
    deadline = time.monotonic() + 30
    with psycopg.connect(standby, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT talked_time FROM "
                               "user_metrics.get_session_details('hs1')").fetchone()
            if row[0] == 12 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert row[0] == 12
