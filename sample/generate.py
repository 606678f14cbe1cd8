#!/usr/bin/env python3
"""Writes sample/events.json: the demo data set, a few hundred voice-app metrics
events across users, sessions, devices and days, including one repeated event
and a few invalid ones. Deterministic: the same file every run.

    python3 sample/generate.py > sample/events.json
"""
import json
import random
from datetime import datetime, timedelta, timezone

rng = random.Random(20261123)

PEOPLE = [
    ("ana.lima@example.com", "Ana Lima"),
    ("bruno.costa@example.com", "Bruno Costa"),
    ("chen.wei@example.com", "Chen Wei"),
    ("dana.okafor@example.com", "Dana Okafor"),
    ("emil.berg@example.com", "Emil Berg"),
    ("fatima.haddad@example.com", "Fatima Haddad"),
    ("gus.moreau@example.com", "Gus Moreau"),
    ("hana.sato@example.com", "Hana Sato"),
    ("ivan.petrov@example.com", "Ivan Petrov"),
    ("julia.rossi@example.com", "Julia Rossi"),
    ("kofi.mensah@example.com", ""),
    ("lea.novak@example.com", "Lea Novak"),
]
DEVICES = [
    {"type": "desktop", "os": "macOS 15.1", "model": "MacBookPro18,3"},
    {"type": "desktop", "os": "Windows 11 23H2", "model": "ThinkPad X1"},
    {"type": "mobile", "os": "iOS 18.1", "model": "iPhone15,2"},
    {"type": "mobile", "os": "Android 15", "model": "Pixel 9"},
    {"type": "tablet", "os": "iPadOS 18.1", "model": "iPad13,4"},
]
APP_VERSIONS = ["3.3.2", "3.4.0", "3.4.1"]
FIRST_DAY = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday; three weeks of data


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_events():
    events = []
    serial = 0
    for number in range(1, 61):
        email, name = PEOPLE[rng.randrange(len(PEOPLE))]
        start = FIRST_DAY + timedelta(days=rng.randrange(21), hours=rng.randrange(7, 21),
                                      minutes=rng.randrange(60))
        length = timedelta(minutes=rng.randrange(5, 90))
        device = dict(DEVICES[rng.randrange(len(DEVICES))])
        device["id"] = f"dev-{rng.randrange(100, 999)}"
        device["app_version"] = APP_VERSIONS[rng.randrange(len(APP_VERSIONS))]
        session_id = f"s-{number:04d}"
        reports = rng.randrange(2, 9)
        for report in range(reports):
            serial += 1
            recorded = start + length * (report + 1) / reports
            last = report == reports - 1
            event = {
                "event_id": f"evt-{serial:05d}",
                "recorded_at": rfc3339(recorded),
                # Clients vary the case of addresses; identity ignores it.
                "user": {"email": email.upper() if serial % 17 == 0 else email},
                "session": {"id": session_id, "started_at": rfc3339(start)},
                "metrics": {
                    "talked_time": round(rng.uniform(5, 600), 1),
                    "microphone_used": rng.random() < 0.9,
                    "speaker_used": rng.random() < 0.7,
                },
            }
            if name and report == 0:
                event["user"]["name"] = name
            if report == 0:
                event["session"]["device"] = device
            if last:
                event["session"]["ended_at"] = rfc3339(start + length)
            if rng.random() < 0.8:
                event["metrics"]["voice_sentiment"] = round(rng.uniform(-1, 1), 2)
            events.append(event)

    # A client retry: the same event sent again.
    events.insert(40, json.loads(json.dumps(events[12])))
    # A few invalid events, each with a different problem.
    events.insert(77, {"event_id": "bad-001", "user": {"email": "ana.lima@example.com"},
                       "session": {"id": "s-bad-1", "started_at": "2026-11-10T09:00:00Z"},
                       "metrics": {"talked_time": -12}})
    events.insert(150, {"event_id": "bad-002", "user": {"email": "bruno.costa@example.com"},
                        "session": {"id": "s-bad-2", "started_at": "2026-11-10 09:00:00"},
                        "metrics": {"talked_time": 30}})
    events.insert(220, {"event_id": "bad-003", "user": {"email": "chen.wei@example.com"},
                        "session": {"id": "s-bad-3", "started_at": "2026-11-11T09:00:00Z"},
                        "metrics": {"talk_time": 30}})
    events.insert(260, {"event_id": "bad-004", "user": {"email": "not-an-address"},
                        "session": {"id": "s-bad-4", "started_at": "2026-11-12T09:00:00Z"},
                        "metrics": {"talked_time": 30}})
    # A field the contract does not know.
    events.insert(300, {"event_id": "bad-005", "user": {"email": "mallory@example.com", "nickname": "m"},
                        "session": {"id": "s-bad-5", "started_at": "2026-11-03T09:00:00Z"},
                        "metrics": {"talked_time": 1}})
    return events


def main():
    events = make_events()
    print("[")
    print(",\n".join(json.dumps(e, separators=(", ", ": ")) for e in events))
    print("]")


if __name__ == "__main__":
    main()
