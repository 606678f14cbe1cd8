"""The benchmark's synthetic workload: deterministic for a given seed.

By default 200,000 events from 10,000 users over about 40,000 sessions spread over
8 weeks, with realistic device objects, 1% repeated event_ids and 0.5% invalid
events (one of several kinds of problem each)."""
import random
import uuid
from datetime import datetime, timedelta, timezone

DEVICES = [
    {"type": "desktop", "os": "macOS 15.1", "model": "MacBookPro18,3"},
    {"type": "desktop", "os": "Windows 11 23H2", "model": "ThinkPad X1 Carbon"},
    {"type": "desktop", "os": "Ubuntu 24.04", "model": "Framework 13"},
    {"type": "mobile", "os": "iOS 18.1", "model": "iPhone15,2"},
    {"type": "mobile", "os": "Android 15", "model": "Pixel 9"},
    {"type": "mobile", "os": "Android 14", "model": "SM-S921B"},
    {"type": "tablet", "os": "iPadOS 18.1", "model": "iPad13,4"},
]
APP_VERSIONS = ["3.3.2", "3.4.0", "3.4.1", "3.5.0-beta.2"]
START = datetime(2026, 9, 28, tzinfo=timezone.utc)  # 8 weeks before 2026-11-23
WEEKS = 8


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(rng, good):
    """A copy of a valid event with one problem."""
    bad = {k: (dict(v) if isinstance(v, dict) else v) for k, v in good.items()}
    kind = rng.randrange(6)
    if kind == 0:
        bad["metrics"]["talked_time"] = -rng.randrange(1, 100)
    elif kind == 1:
        bad["session"]["started_at"] = bad["session"]["started_at"].rstrip("Z")
    elif kind == 2:
        bad["metrics"]["talk_time"] = bad["metrics"].pop("talked_time")
    elif kind == 3:
        bad["user"]["email"] = bad["user"]["email"].replace("@", "")
    elif kind == 4:
        del bad["session"]["id"]
    else:
        bad["metrics"]["microphone_used"] = "yes"
    bad["event_id"] = "bad-" + bad["event_id"]
    return bad


def generate(events=200_000, users=10_000, sessions=40_000, seed=1, duplicate_share=0.01,
             invalid_share=0.005, part=0):
    """The events of `part` (0, 1, ...): every part shares the same users and
    sessions (they depend on `seed` only) and has its own event ids."""
    rng = random.Random(seed)
    people = [f"user{n:05d}@example.com" for n in range(users)]
    names = [f"User {n:05d}" for n in range(users)]
    session_rows = []
    for n in range(sessions):
        u = rng.randrange(users)
        start = START + timedelta(seconds=rng.randrange(WEEKS * 7 * 86400))
        device = dict(DEVICES[rng.randrange(len(DEVICES))])
        device["id"] = f"dev-{u:05d}-{rng.randrange(3)}"
        device["app_version"] = APP_VERSIONS[rng.randrange(len(APP_VERSIONS))]
        session_rows.append((f"sess-{n:06d}", u, start, device))
    rng = random.Random(f"{seed}/{part}")
    out = []
    for n in range(events):
        sid, u, start, device = session_rows[rng.randrange(sessions)]
        event = {
            "event_id": f"ev-{seed}-{part}-{n:07d}",
            "recorded_at": rfc3339(start + timedelta(seconds=rng.randrange(3600))),
            "user": {"email": people[u], "name": names[u]},
            "session": {"id": sid, "started_at": rfc3339(start),
                        "ended_at": rfc3339(start + timedelta(seconds=rng.randrange(60, 3600))),
                        "device": device},
            "metrics": {"talked_time": round(rng.uniform(1, 900), 1),
                        "microphone_used": rng.random() < 0.9,
                        "speaker_used": rng.random() < 0.7,
                        "voice_sentiment": round(rng.uniform(-1, 1), 2)},
        }
        roll = rng.random()
        if roll < invalid_share:
            event = _invalid(rng, event)
        elif roll < invalid_share + duplicate_share and out:
            event = out[rng.randrange(len(out))]
        out.append(event)
    return out


def shaped(events, events_per_session, users=10_000, seed=1, part=0):
    """Valid events with random (version 4) UUID event ids, in the order a voice
    app's clients would send them: `events_per_session` events per session on
    average, sessions overlapping in time so that a session's events arrive spread
    over neighbouring batches, each session belonging to one user. With
    `events_per_session=1` every event opens a session of its own (the worst case
    for ingestion: one session row written per event). Sessions and event ids of
    different `part`s never meet; users are shared."""
    rng = random.Random(f"shaped/{seed}/{part}/{events_per_session}")
    people = [f"user{n:05d}@example.com" for n in range(users)]
    sessions = max(1, events // events_per_session)
    # Each session's events fall anywhere within 50 * events_per_session positions
    # either side of its place in the stream (1,000 for 20 events per session), so
    # sessions interleave and most of them span two or three batches of 1,000:
    # calls both open sessions and add to sessions stored by earlier calls.
    spread = 50 * events_per_session
    positions = []
    for s in range(sessions):
        centre = s * events_per_session
        for _ in range(events_per_session):
            positions.append((centre + rng.uniform(-spread, spread) if events_per_session > 1 else centre, s))
    positions.sort()
    opened = {}
    out = []
    for n, (_, s) in enumerate(positions[:events]):
        if s not in opened:
            u = rng.randrange(users)
            start = START + timedelta(seconds=rng.randrange(WEEKS * 7 * 86400))
            device = dict(DEVICES[rng.randrange(len(DEVICES))])
            device["id"] = f"dev-{u:05d}-{rng.randrange(3)}"
            device["app_version"] = APP_VERSIONS[rng.randrange(len(APP_VERSIONS))]
            opened[s] = (f"shaped-{part}-{events_per_session}-{s:07d}", u, start, device)
        sid, u, start, device = opened[s]
        out.append({
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "recorded_at": rfc3339(start + timedelta(seconds=rng.randrange(3600))),
            "user": {"email": people[u], "name": f"User {u:05d}"},
            "session": {"id": sid, "started_at": rfc3339(start),
                        "ended_at": rfc3339(start + timedelta(seconds=3600)),
                        "device": device},
            "metrics": {"talked_time": round(rng.uniform(1, 900), 1),
                        "microphone_used": rng.random() < 0.9,
                        "speaker_used": rng.random() < 0.7,
                        "voice_sentiment": round(rng.uniform(-1, 1), 2)},
        })
    return out
