"""GET /metrics, read with Prometheus' own text-format parser: requests by route
and status, time histograms, connections, pools, and the database's figures,
equal to what health() and ingest_stats say; for a metrics or a reader token
only, and never an e-mail or a name."""
import re

import psycopg
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import POOL_SIZE, PORT, ROOT, Server, server_conninfo
from events import event

SECRET_EMAIL = "metrics.secret@example.com"
SECRET_NAME = "Metrics Secret Name"


def scrape(server, token):
    response = requests.get(server.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    return response.text, families


def value(families, family, sample=None, **labels):
    """The value of the sample `sample` (the family's name by default) with
    these labels, 0 if there is none."""
    sample = sample or family
    for s in families[family].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0


def test_who_may_read_it(server):
    metrics_token = server.add_token("metrics")
    assert requests.get(server.url + "/metrics", timeout=10).status_code == 401
    assert requests.get(server.url + "/metrics", headers=server.writer, timeout=10).status_code == 403
    scrape(server, metrics_token)
    scrape(server, server.tokens["user_metrics_reader"])
    # A metrics token reads nothing else.
    for path in ["/health", "/reports/weekly?week_ending=2026-11-23&tz=UTC", "/users/a@example.com/metrics"]:
        response = requests.get(server.url + path, headers={"Authorization": f"Bearer {metrics_token}"}, timeout=10)
        assert response.status_code == 403, path
    response = requests.post(server.url + "/ingest", data="[]", timeout=10,
                             headers={"Authorization": f"Bearer {metrics_token}"})
    assert response.status_code == 403


def test_requests_durations_connections_and_pools(server, db):
    token = server.add_token("metrics")
    _, before = scrape(server, token)
    for _ in range(3):
        assert requests.get(server.url + "/health", timeout=10).status_code == 200
    for _ in range(2):
        assert requests.get(server.url + "/nope", timeout=10).status_code == 404
    assert requests.post(server.url + "/ingest", data="{", headers=server.writer, timeout=10).status_code == 400
    text, after = scrape(server, token)

    requests_total = "user_metrics_http_requests"
    for labels, added in [({"route": "/health", "status": "200", "method": "GET"}, 3),
                          ({"route": "(unmatched)", "status": "404", "method": "GET"}, 2),
                          ({"route": "/ingest", "status": "400", "method": "POST"}, 1)]:
        assert value(after, requests_total, requests_total + "_total", **labels) - \
            value(before, requests_total, requests_total + "_total", **labels) == added, labels
    duration = "user_metrics_http_request_duration_seconds"
    assert after[duration].type == "histogram"
    for route in ["/health", "(unmatched)", "/ingest", "/metrics"]:
        buckets = [s for s in after[duration].samples if s.name == duration + "_bucket" and s.labels["route"] == route]
        counts = [s.value for s in sorted(buckets, key=lambda s: float(s.labels["le"]))]
        assert counts == sorted(counts) and buckets[-1].labels["le"] == "+Inf", route
        assert counts[-1] == value(after, duration, duration + "_count", route=route) > 0
    assert value(after, duration, duration + "_count", route="/health") - \
        value(before, duration, duration + "_count", route="/health") == 3

    assert value(after, "user_metrics_http_connections_open") >= 1
    assert value(after, "user_metrics_http_connections_max") > 0
    assert value(after, "user_metrics_http_connections_accepted", "user_metrics_http_connections_accepted_total") > 0
    closed = {s.labels["reason"] for s in after["user_metrics_http_connections_closed"].samples}
    assert closed == {"header_timeout", "keepalive_timeout", "evicted", "shutdown"}
    for role in ["user_metrics_writer", "user_metrics_reader"]:
        assert value(after, "user_metrics_http_pool_max_connections", role=role) == POOL_SIZE
        in_use = value(after, "user_metrics_http_pool_connections", role=role, state="in_use")
        idle = value(after, "user_metrics_http_pool_connections", role=role, state="idle")
        assert 0 <= in_use + idle <= POOL_SIZE, role
    # The health role's pool (the reader's) served the /health requests above.
    assert value(after, "user_metrics_http_pool_connections", role="user_metrics_reader", state="idle") >= 1
    wait_count = "user_metrics_http_pool_wait_seconds_count"
    assert value(after, "user_metrics_http_pool_wait_seconds", wait_count, role="user_metrics_reader") - \
        value(before, "user_metrics_http_pool_wait_seconds", wait_count, role="user_metrics_reader") >= 3
    assert value(after, "user_metrics_http_tokens", access="metrics") >= 1
    version = re.search(r'^version = "(.*)"', (ROOT / "http" / "Cargo.toml").read_text(), re.M).group(1)
    assert [(s.labels, s.value) for s in after["user_metrics_http_info"].samples] == [({"version": version}, 1)]


def test_the_database_figures_are_health_and_ingest_stats(server, db):
    batch = [event("m-1", SECRET_EMAIL, "s-m", "2026-11-16T09:00:00Z", 3, user__name=SECRET_NAME),
             event("m-2", SECRET_EMAIL, "s-m", "2026-11-16T09:00:00Z", 4),
             event("m-2", SECRET_EMAIL, "s-m", "2026-11-16T09:00:00Z", 4),
             event("m-3", SECRET_EMAIL, "s-m", "2026-11-16T09:00:00Z", -1),
             event("m-4", SECRET_EMAIL, "s-m", "2026-11-16T09:00:00", 1)]
    summary = requests.post(server.url + "/ingest", json=batch, headers=server.writer, timeout=10).json()
    assert (summary["accepted"], summary["rejected"]) == (2, 2)
    text, families = scrape(server, server.add_token("metrics"))
    assert SECRET_EMAIL not in text and SECRET_NAME not in text and "metrics.secret" not in text

    health = db.execute("SELECT user_metrics.health()").fetchone()[0]
    assert value(families, "user_metrics_database_up") == 1
    assert value(families, "user_metrics_extension_info", version=health["version"]) == 1
    for key, name in [("users", "user_metrics_users"), ("sessions", "user_metrics_sessions"),
                      ("events", "user_metrics_events"), ("rejected", "user_metrics_rejected_events")]:
        assert value(families, name) == health[key], name
    received = db.execute("SELECT extract(epoch FROM (user_metrics.health()->>'last_received_at')::timestamptz)"
                          ).fetchone()[0]
    assert abs(value(families, "user_metrics_last_received_timestamp_seconds") - float(received)) < 1e-3

    calls, accepted, duplicates, rejected, seconds = db.execute(
        "SELECT sum(calls), sum(accepted), sum(duplicates), sum(rejected), extract(epoch FROM sum(time_total)) "
        "FROM user_metrics.ingest_stats").fetchone()
    assert value(families, "user_metrics_ingest_calls", "user_metrics_ingest_calls_total") == calls
    for outcome, expected in [("accepted", accepted), ("duplicate", duplicates), ("rejected", rejected)]:
        assert value(families, "user_metrics_ingest_events", "user_metrics_ingest_events_total",
                     outcome=outcome) == expected, outcome
    assert abs(value(families, "user_metrics_ingest_seconds", "user_metrics_ingest_seconds_total")
               - float(seconds)) < 1e-3
    by_code = dict(db.execute(
        "SELECT r.key, sum(r.value::bigint) FROM user_metrics.ingest_stats s, "
        "jsonb_each_text(s.rejected_by_code) r GROUP BY r.key").fetchall())
    assert by_code and {s.labels["code"]: s.value for s in families["user_metrics_ingest_rejected"].samples
                        if s.name.endswith("_total")} == by_code


def test_without_the_database_the_server_s_own_figures_remain(server, dsn, tmp_path):
    gone = Server(psycopg.conninfo.make_conninfo(server_conninfo(dsn), port="1"), PORT + 1, tmp_path,
                  wait_status=503)
    try:
        _, families = scrape(gone, gone.add_token("metrics"))
        assert value(families, "user_metrics_database_up") == 0
        assert "user_metrics_events" not in families
        assert value(families, "user_metrics_http_requests", "user_metrics_http_requests_total",
                      route="/health", status="503") >= 1
    finally:
        assert gone.stop() == 0
