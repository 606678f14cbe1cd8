"""schema/event.schema.json describes the same contract ingest_metrics enforces:
over the sample data set, an event passes the schema exactly when ingest_metrics
accepts it. (The one refusal that only the database can know, user_key_collision,
needs two e-mails whose SHA-256 digests share 64 bits: none in the sample.)"""
import json
from pathlib import Path

import jsonschema
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parents[2]


def test_schema_agrees_with_ingest_metrics_on_the_sample_data(db):
    schema = json.loads((ROOT / "schema" / "event.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    events = json.loads((ROOT / "sample" / "events.json").read_text())
    # Plus events that exercise each kind of refusal once more.
    events += [
        42,
        {"user": {"email": "a@x"}, "session": {"id": "s", "started_at": 0}, "metrics": {"talked_time": 1}},
        {"user": {"email": "a@x"}, "session": {"id": "", "started_at": 0}, "metrics": {"talked_time": 1}},
        {"user": {"email": "a@x"}, "session": {"id": "s", "started_at": 0}, "metrics": {"talked_time": 1e6}},
        {"user": {"email": "a@x"}, "session": {"id": "s", "started_at": -5}, "metrics": {"talked_time": 1}},
        {"user": {"email": "a@x", "nick": "x"}, "session": {"id": "s", "started_at": 0},
         "metrics": {"talked_time": 1}},
        {"user": {"email": "a@x"}, "session": {"id": "s", "started_at": 0, "device": {"os": 7}},
         "metrics": {"talked_time": 1}},
    ]
    # E-mail addresses on either side of the mailbox rule.
    addresses = ["o'neil+metrics@example.ie", "用户@例子.广告", "a@b", "mailto:ana@example.com",
                 "Ana <ana@example.com>", " ana@example.com", '"ana"@example.com', "ana@[192.0.2.1]",
                 "ana..lima@example.com", "ana@example.com.", "ana@-x.com", "ana@x\u00a0"]
    events += [{"user": {"email": a}, "session": {"id": "s", "started_at": 0}, "metrics": {"talked_time": 1}}
               for a in addresses]
    summary = db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(events),)).fetchone()[0]
    refused = {e["index"]: e["code"] for e in summary["errors"]}
    assert len(refused) == 11 + 9
    for index, event in enumerate(events):
        contract_error = index in refused
        schema_valid = validator.is_valid(event)
        assert schema_valid != contract_error, (index, event, refused.get(index))
