"""The edges of the server: how long a connection may take to send a request's
head and body, how long it may sit idle after a response, and how many may be
open, so that clients which open connections and send nothing, or a byte at a
time, cannot keep real requests out."""
import json
import re
import resource
import socket
import subprocess
import time

import requests

from conftest import (BINARY, BODY_TIMEOUT_MS, HEADER_TIMEOUT_MS, KEEPALIVE_TIMEOUT_MS, PORT, Server)
from events import event

HALF_HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"


def connect(server, timeout=10):
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def seconds_until_closed(sock, limit=30):
    """How long until the server closes the connection (recv gives nothing)."""
    started = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_a_connection_without_a_complete_head_is_closed_after_the_header_timeout(server):
    with connect(server) as sock:
        sock.sendall(HALF_HEAD)
        took = seconds_until_closed(sock)
    assert HEADER_TIMEOUT_MS / 1000 - 0.2 < took < HEADER_TIMEOUT_MS / 1000 + 1.5, took
    # One that sends nothing at all, likewise.
    with connect(server) as sock:
        took = seconds_until_closed(sock)
    assert HEADER_TIMEOUT_MS / 1000 - 0.2 < took < HEADER_TIMEOUT_MS / 1000 + 1.5, took


def test_an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout(server):
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        # Still open, and usable, a while later.
        time.sleep(KEEPALIVE_TIMEOUT_MS / 1000 / 2)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        took = seconds_until_closed(sock)
    assert KEEPALIVE_TIMEOUT_MS / 1000 - 0.2 < took < KEEPALIVE_TIMEOUT_MS / 1000 + 1.5, took


def test_a_body_slower_than_the_body_timeout_gets_408_and_nothing_is_stored(server, db):
    body = json.dumps(event("slow-1", "slow@example.com", "s-slow", "2026-11-16T09:00:00Z", 1)).encode()
    head = (f"POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {server.tokens['user_metrics_writer']}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head + body[:10])
        sock.settimeout(BODY_TIMEOUT_MS / 1000 + 5)
        answer = sock.recv(65536)
        took = time.monotonic() - started
        # Sending the rest now changes nothing: the server closed the connection.
        try:
            sock.sendall(body[10:])
        except OSError:
            pass
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"error":"body_timeout"' in answer
    assert BODY_TIMEOUT_MS / 1000 - 0.2 < took < BODY_TIMEOUT_MS / 1000 + 1.5, took
    assert db.execute("SELECT count(*) FROM user_metrics.events").fetchone()[0] == 0


def test_2000_half_open_connections_under_a_limit_of_1024_files_do_not_keep_a_request_out(dsn, tmp_path):
    """The server may open 1,024 files; 2,000 connections send half a head and
    stay. Real requests are still answered at once: at the cap, each new
    connection closes the one idle the longest."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    # The default limits (a 10 s header timeout: nothing is closed for taking
    # too long while this runs) and the default cap, fitted to the file limit.
    server = Server(dsn, PORT + 2, tmp_path, open_files=1024,
                    USER_METRICS_HTTP_HEADER_TIMEOUT_MS="", USER_METRICS_HTTP_KEEPALIVE_TIMEOUT_MS="")
    held = []
    try:
        started = time.monotonic()
        for _ in range(2000):
            sock = connect(server)
            try:
                sock.sendall(HALF_HEAD)
            except OSError:
                pass  # already closed for a newer one
            held.append(sock)
        opened_in = time.monotonic() - started
        for _ in range(5):
            asked = time.monotonic()
            response = requests.get(server.url + "/health", timeout=5)
            assert response.status_code == 200
            assert time.monotonic() - asked < 2
        # A keep-alive client too, between bursts of new half-open connections.
        with requests.Session() as http:
            for _ in range(3):
                assert http.get(server.url + "/health", headers=server.reader, timeout=5).status_code == 200
                for _ in range(300):
                    held.append(connect(server))
        assert server.process.poll() is None
        log = server.log_text()
        assert "client connections at most" in log
        cap = int(re.search(r"(\d+) client connections at most", log).group(1))
        assert cap < 1024, log
        # It never ran out of files: it closed connections instead.
        assert "accepting a connection" not in log, log
    finally:
        for sock in held:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        code = server.stop()
    assert code == 0, server.log_text()
    closed = server.log_text().split("closed by the server: ")[1]
    assert int(closed.split("evicted ")[1].split(",")[0]) >= 2000 - cap, closed
    assert opened_in < 30


def test_a_cap_above_the_file_limit_is_refused_at_start(server):
    run = subprocess.run([BINARY], capture_output=True, text=True, timeout=30,
                         preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)),
                         env={"USER_METRICS_HTTP_DATABASE": "host=/nonexistent",
                              "USER_METRICS_HTTP_TOKENS": str(server.tokens_file),
                              "USER_METRICS_HTTP_MAX_CONNECTIONS": "1000"})
    assert run.returncode == 1, run.stderr
    assert "USER_METRICS_HTTP_MAX_CONNECTIONS 1000: the open-file limit is 256" in run.stderr
