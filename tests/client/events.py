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
