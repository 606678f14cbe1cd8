"""Bearer tokens (401, 403, the database's own refusal), the token file, the log
lines, the bound on connections, and a graceful shutdown."""
import json
import re
import subprocess
import threading
import time

import psycopg
import requests
from psycopg.types.json import Jsonb

from conftest import BINARY, BOGUS_ROLE, LOGIN_ROLE, POOL_SIZE, PORT, Server
from events import event

EVENT = event("a-1", "secret.person@example.com", "s-a", "2026-11-16T09:00:00Z", 12.5,
              user__name="Very Secret Name")
READS = ["/users/secret.person@example.com/metrics", "/sessions/s-a?email=x@example.com",
         "/reports/weekly?week_ending=2026-11-23&tz=UTC"]


def test_no_token_no_data(server, db):
    for path in READS:
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthorized"
    response = requests.post(server.url + "/ingest", json=EVENT, timeout=10)
    assert response.status_code == 401
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 0


def test_unknown_or_malformed_tokens_are_401(server):
    reader = server.tokens["user_metrics_reader"]
    one_digit_off = reader[:-1] + ("1" if reader[-1] == "0" else "0")
    tokens = [one_digit_off, reader[:-1], reader + "0", "umt_" + "0" * 64, ""]
    for token in tokens:
        response = requests.get(server.url + READS[2], headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 401, token
    for header in [f"Basic {server.tokens['user_metrics_reader']}", server.tokens["user_metrics_reader"]]:
        assert requests.get(server.url + READS[2], headers={"Authorization": header},
                            timeout=10).status_code == 401
    # The scheme's name in any case.
    assert requests.get(server.url + READS[2], timeout=10, headers={
        "Authorization": f"bearer {server.tokens['user_metrics_reader']}"}).status_code == 200
    # A wrong token on the public health route is refused too, not ignored.
    assert requests.get(server.url + "/health", headers={"Authorization": "Bearer nope"},
                        timeout=10).status_code == 401


def test_a_writer_token_may_only_ingest_and_a_reader_token_only_read(server, db):
    for path in READS + ["/health"]:
        response = requests.get(server.url + path, headers=server.writer, timeout=10)
        assert response.status_code == 403, path
        assert response.json()["error"] == "forbidden"
    response = requests.post(server.url + "/ingest", json=EVENT, headers=server.reader, timeout=10)
    assert response.status_code == 403
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 0
    assert requests.post(server.url + "/ingest", json=EVENT, headers=server.writer,
                         timeout=10).json()["accepted"] == 1
    for path in READS:
        assert requests.get(server.url + path, headers=server.reader, timeout=10).status_code in (200, 404)


def test_the_database_refuses_a_role_without_the_extension_s_rights(server, db):
    """A token of a role that the server takes for a reader, but that the extension
    never granted anything: the database says no (42501), and the client gets 403."""
    headers = server.headers(BOGUS_ROLE)
    for path in READS:
        response = requests.get(server.url + path, headers=headers, timeout=10)
        assert response.status_code == 403, path
        assert (response.json()["error"], response.json()["sqlstate"]) == ("forbidden", "42501")
    # /health answers 503 whatever keeps the database from saying ok.
    response = requests.get(server.url + "/health", headers=headers, timeout=10)
    assert (response.status_code, response.json()["sqlstate"]) == (503, "42501")


def test_the_server_s_own_login_has_no_rights(dsn):
    """Without a role set, the login role the server connects as can call nothing."""
    with psycopg.connect(psycopg.conninfo.make_conninfo(dsn, user=LOGIN_ROLE)) as conn:
        for sql in ["SELECT user_metrics.health()",
                    "SELECT user_metrics.ingest_metrics('[]')"]:
            try:
                conn.execute(sql)
                raise AssertionError(f"{sql} was allowed")
            except psycopg.errors.InsufficientPrivilege:
                conn.rollback()


def test_the_token_file_holds_hashes_and_bad_files_stop_the_server(server, tmp_path):
    text = server.tokens_file.read_text()
    for token in server.tokens.values():
        assert token.startswith("umt_") and len(token) == 68 and token not in text
    assert oct(server.tokens_file.stat().st_mode & 0o777) == "0o600"
    bad = tmp_path / "tokens"
    for content, message in [("abc user_metrics_writer\n", "line 1: the hash must be 64 hexadecimal digits"),
                             ("# only a comment\n", "no tokens"),
                             (f"{'a' * 64} user_metrics_admin\n", "line 1: role \"user_metrics_admin\"")]:
        bad.write_text(content)
        run = subprocess.run([BINARY], env={"USER_METRICS_HTTP_DATABASE": "host=/nonexistent",
                                            "USER_METRICS_HTTP_TOKENS": str(bad)},
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 1 and message in run.stderr, run.stderr
    run = subprocess.run([BINARY, "token", "postgres", bad], capture_output=True, text=True)
    assert run.returncode == 1 and "ending in _writer or _reader" in run.stderr


def test_one_log_line_per_request_without_payload_or_e_mails(server, db):
    before = len(server.log_text().splitlines())
    requests.post(server.url + "/ingest", json=EVENT, headers=server.writer, timeout=10)
    requests.post(server.url + "/ingest", params={"on_error": "raise"}, headers=server.writer, timeout=10,
                  json=[event("a-2", "secret.person@example.com", "s-a", "2026-11-16T09:00:00Z", -7.25)])
    requests.get(server.url + "/users/secret.person@example.com/metrics", headers=server.reader, timeout=10)
    requests.get(server.url + "/sessions/s-a", params={"email": "secret.person@example.com"},
                 headers=server.reader, timeout=10)
    requests.get(server.url + "/nope/secret.person@example.com", timeout=10)
    lines = server.log_text().splitlines()[before:]
    routes = [re.search(r" INFO (\S+ \S+ \d{3}) [\d.]+ms( sqlstate=\w+)?$", line) for line in lines]
    assert all(routes), lines
    assert [m.group(1) for m in routes] == [
        "POST /ingest 200", "POST /ingest 422", "GET /users/{email}/metrics 200",
        "GET /sessions/{id} 200", "GET (unmatched) 404"]
    assert routes[1].group(2) == " sqlstate=22023"
    text = "\n".join(lines)
    for secret in ["secret.person", "Very Secret", "-7.25", "12.5", "s-a", "on_error"]:
        assert secret not in text


def test_connections_stay_within_the_pool_bound(server, dsn, db):
    def burst():
        for _ in range(10):
            requests.post(server.url + "/ingest", json=[], headers=server.writer, timeout=30)
    threads = [threading.Thread(target=burst) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    count = db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'user-metrics-http' "
                       "AND usename = %s AND datname = current_database()", (LOGIN_ROLE,)).fetchone()[0]
    # Three roles (writer, reader, the bogus reader), POOL_SIZE each at most.
    assert 1 <= count <= 3 * POOL_SIZE, count


def test_sigterm_lets_the_requests_under_way_finish(dsn, db, tmp_path):
    server = Server(dsn, PORT + 1, tmp_path)
    ingest = event("g-1", "grace@example.com", "s-g", "2026-11-16T09:00:00Z", 5, user__name="G")
    result = {}
    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT user_metrics.ingest_metrics(%s)",
                       (Jsonb(event("g-0", "grace@example.com", "s-g", "2026-11-16T09:00:00Z", 1, user__name="H")),))

        def call():
            result["response"] = requests.post(server.url + "/ingest", data=json.dumps(ingest),
                                               headers=server.writer, timeout=30)
        thread = threading.Thread(target=call)
        thread.start()
        time.sleep(1)  # the request now waits for the held row
        server.process.send_signal(15)
        time.sleep(0.5)
        assert server.process.poll() is None, "it waits for the request under way"
        # New connections are no longer accepted.
        try:
            requests.get(server.url + "/health", timeout=2)
            refused = False
        except requests.ConnectionError:
            refused = True
        assert refused
        holder.commit()
    thread.join()
    assert result["response"].status_code == 200 and result["response"].json()["accepted"] == 1
    assert server.stop() == 0
    assert "shutting down" in server.log_text() and "stopped" in server.log_text()
