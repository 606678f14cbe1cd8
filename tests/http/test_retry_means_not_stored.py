"""A 503 advises a retry (Retry-After), so it must mean that nothing was stored:
a client that retries an event without event_id as told would otherwise store it
twice. Each request here sends its body slowly (part of the time limit goes by
before the call is sent), then its call waits for a row that another
transaction holds, which is let go at a different moment for each request,
before and after the request's time limit. Every 503 must have stored nothing,
every 200 its event."""
import json
import socket
import threading
import time

import psycopg
from psycopg.types.json import Jsonb

from conftest import TIMEOUT_MS
from events import event

BODY_PAUSE = 1.5
# When each holder lets go, in seconds after its request was sent: around the
# time limit (TIMEOUT_MS, 4 s), on both sides of it.
RELEASES = [2.6, 3.4, 3.8, 4.2, 4.6, 5.4]


def post_slowly(server, body, pause):
    """POST /ingest with the body sent in two halves, `pause` seconds apart;
    returns the status and the JSON answer."""
    host, port = server.url.removeprefix("http://").split(":")
    head = (f"POST /ingest HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {server.tokens['user_metrics_writer']}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + body[:len(body) // 2])
        time.sleep(pause)
        sock.sendall(body[len(body) // 2:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(content)


def test_every_503_stored_nothing_and_every_200_stored_its_event(server, dsn, db):
    users = [f"late-{n}@example.com" for n in range(len(RELEASES))]
    for n, user in enumerate(users):
        db.execute("SELECT user_metrics.ingest_metrics(%s)",
                   (Jsonb(event(f"seed-{n}", user, f"s-{n}", "2026-11-16T09:00:00Z", 1, user__name="A")),))
    holders = []
    for n, user in enumerate(users):
        holder = psycopg.connect(dsn)
        # Renaming the user holds the user's row until this transaction ends.
        holder.execute("SELECT user_metrics.ingest_metrics(%s)",
                       (Jsonb(event(f"hold-{n}", user, f"s-{n}", "2026-11-16T09:00:00Z", 1, user__name="B")),))
        holders.append(holder)
    answers = {}
    durations = {}

    def send(n):
        body = json.dumps(event(f"late-{n}", users[n], f"s-{n}", "2026-11-16T09:00:00Z", 1,
                                user__name="C")).encode()
        sent = time.monotonic()
        answers[n] = post_slowly(server, body, BODY_PAUSE)
        durations[n] = time.monotonic() - sent

    def release(n, at):
        time.sleep(at)
        holders[n].rollback()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(RELEASES))]
    threads += [threading.Thread(target=release, args=(n, at)) for n, at in enumerate(RELEASES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for holder in holders:
        holder.close()

    stored = {row[0] for row in db.execute(
        "SELECT event_id FROM user_metrics.events WHERE event_id LIKE 'late-%'").fetchall()}
    for n, (status, answer) in answers.items():
        if status == 200:
            assert answer["accepted"] == 1 and f"late-{n}" in stored, (n, answer)
        else:
            assert status == 503 and f"late-{n}" not in stored, (n, status, answer)
    statuses = [answers[n][0] for n in sorted(answers)]
    # Let go well before the limit: answered; after it: given up, and not stored.
    assert statuses[0] == 200 and statuses[-1] == 503, statuses
    assert 503 in statuses[3:] and statuses[:2] == [200, 200], statuses
    # No request outlived its time limit: the call got the time left.
    assert max(durations.values()) < TIMEOUT_MS / 1000 + 0.5, durations
