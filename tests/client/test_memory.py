"""Memory: the 64 MiB limit is measured on the JSON as a client can see it (compact,
without the spaces PostgreSQL's text of a jsonb adds), and a backend gives the
memory of a large call back to the operating system once the call's transaction
ends, instead of holding it while idle."""
import json

import psycopg
import pytest

from events import event

LIMIT = 64 * 1024 * 1024


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def payload_of_compact_size(size):
    """An array whose compact JSON is exactly `size` bytes. Its first event is
    invalid, so a call in raise mode that gets past the size check stops there and
    stores nothing."""
    first = event("limit-0", "limit@example.com", "limit-s", "2026-11-23T09:00:00Z", -1)
    padded = [{"event_id": f"limit-{n}", "pad": ""} for n in range(1, 1000)]
    missing = size - len(compact([first] + padded).encode())
    for n, e in enumerate(padded):
        e["pad"] = "x" * (missing // len(padded) + (missing % len(padded) if n == 0 else 0))
    text = compact([first] + padded)
    assert len(text.encode()) == size
    return text


def test_the_payload_limit_is_measured_on_compact_json(db):
    at_limit = payload_of_compact_size(LIMIT)
    # PostgreSQL's own text of it is longer than the limit: a space after every : and ,.
    assert db.execute("SELECT length(%s::jsonb::text)", (at_limit,)).fetchone()[0] > LIMIT
    with pytest.raises(psycopg.errors.InvalidParameterValue) as raised:
        db.execute("SELECT user_metrics.ingest_metrics(%s::jsonb, 'raise')", (at_limit,))
    assert str(raised.value).startswith("invalid event at index 0: metrics.talked_time"), raised.value

    over = payload_of_compact_size(LIMIT + 1)
    with pytest.raises(psycopg.errors.ProgramLimitExceeded) as raised:
        db.execute("SELECT user_metrics.ingest_metrics(%s::jsonb, 'raise')", (over,))
    assert str(raised.value).startswith(f"events is {LIMIT + 1} bytes of compact JSON"), raised.value
    assert db.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 0


def memory_of(pid):
    """The backend's resident memory in MiB, from /proc (the tests run on the
    server's machine, as root). RssAnon is the backend's private memory; VmRSS also
    counts the pages of shared buffers it touched, which belong to the server."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                fields[name] = int(value.split()[0]) / 1024
    return fields


def test_a_large_call_gives_its_memory_back_when_it_ends(dsn):
    batch = [event(f"mem-{n}", f"mem{n % 500}@example.com", f"mem-s{n % 5000}",
                   1795424400 + n % 5000, 12.5, user__name=f"Member {n % 500}",
                   session__device={"id": f"d{n}", "type": "phone", "os": "Android 15"})
             for n in range(60_000)]
    text = compact(batch)
    size = len(text) / 2**20
    with psycopg.connect(dsn, autocommit=True) as conn:
        pid = conn.info.backend_pid
        conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (compact(batch[:10]),))
        before = memory_of(pid)
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s::jsonb)", (text,)).fetchone()[0]
        assert summary["accepted"] == len(batch) - 10
        after = memory_of(pid)
    print(f"backend memory around a {size:.1f} MiB call, MiB: before {before}, after {after}")
    # The call itself takes many times the payload; afterwards the idle backend
    # keeps less than the payload's size.
    assert after["RssAnon"] - before["RssAnon"] < size, (size, before, after)
