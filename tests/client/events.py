"""Builders of metrics events for the client tests."""


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
