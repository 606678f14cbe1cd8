"""Builders of metrics events for the client tests (and the Citus and HTTP tiers)."""
import random


def event(event_id, email, session, started_at, talked, **extra):
    e = {
        "event_id": event_id,
        "user": {"email": email},
        "session": {"id": session, "started_at": started_at},
        "metrics": {"talked_time": talked},
    }
    for key, value in extra.items():
        section, field = key.split("__")
        e[section][field] = value
    return e


def overlapping_workload(seed, events, users, sessions, talked, batch_sizes):
    """A workload whose batches overlap in users and sessions: `events` events over
    `sessions` sessions of `users` users, some e-mails in upper case (the same
    user), each talked time drawn by talked(rng). Batches of the given sizes, each
    sent twice (a retry), some of the repeats reversed, all shuffled.
    Returns (owner of each session, the events, the batches)."""
    rng = random.Random(seed)
    owner = {f"s-{n}": f"user{rng.randrange(users)}@example.com" for n in range(sessions)}
    session_ids = sorted(owner)
    built = []
    for n in range(events):
        session = session_ids[rng.randrange(sessions)]
        amount = talked(rng)
        email = owner[session]
        if rng.random() < 0.3:
            email = email.upper()
        day = 16 + rng.randrange(7)
        built.append(event(f"ev-{n}", email, session,
                           f"2026-11-{day}T{rng.randrange(24):02d}:00:00Z", amount))
    batches, i = [], 0
    while i < len(built):
        size = rng.choice(batch_sizes)
        batch = built[i:i + size]
        i += size
        batches.append(batch)
        batches.append(list(reversed(batch)) if rng.random() < 0.3 else batch)
    rng.shuffle(batches)
    return owner, built, batches


def a_moved_data_set(prefix):
    """A small data set for the tests that move a database (dump and restore, an
    update): four events of three users (ana's address in two cases, a device, an
    address with a non-ASCII letter), two invalid events, and two later events,
    one in ana's session (3 events, 151.75 s then) and one of a new user. Event ids
    start with prefix. Returns (stored, refused, later)."""
    stored = [
        event(f"{prefix}1", "ana@example.com", "s-1", "2026-11-16T09:00:00Z", 150.5,
              user__name="Ana Lima", session__ended_at="2026-11-16T09:30:00Z",
              metrics__microphone_used=True),
        event(f"{prefix}2", "Ana@Example.com", "s-1", "2026-11-16T09:00:00Z", 0.25,
              metrics__voice_sentiment=0.5),
        event(f"{prefix}3", "bob@example.com", "s-2", "2026-11-18T12:00:00Z", 300,
              session__device={"id": "d-7", "type": "phone"}),
        event(f"{prefix}4", "zo\u00eb@example.com", "s-3", "2026-11-20T23:30:00Z", 12.125),
    ]
    refused = [event("bad-time", "bob@example.com", "s-2", "2026-11-18T12:00:00", 1),
               event("bad-talk", "cy@example.com", "s-9", "2026-11-18T12:00:00Z", -1)]
    later = [event(f"{prefix}5", "ana@example.com", "s-1", "2026-11-16T09:00:00Z", 1),
             event(f"{prefix}6", "eve@example.com", "s-4", "2026-11-24T10:00:00Z", 3,
                   user__name="Eve")]
    return stored, refused, later
