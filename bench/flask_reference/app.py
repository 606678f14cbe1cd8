"""The seed's shape, for the side-by-side benchmark (scripts/bench_http.sh): a
minimal Flask app that takes one event per request and, in one transaction,
upserts the user, upserts the session and inserts the event (schema.sql).
Run under gunicorn, 4 workers x 4 threads; each thread keeps one connection.

    FLASK_REF_DATABASE='host=... dbname=...' gunicorn -w 4 --threads 4 -k gthread app:app
"""
import os
import threading

import psycopg
from flask import Flask, jsonify, request
from psycopg.types.json import Jsonb

app = Flask(__name__)
local = threading.local()


def connection():
    if getattr(local, "conn", None) is None or local.conn.closed:
        local.conn = psycopg.connect(os.environ["FLASK_REF_DATABASE"])
    return local.conn


@app.post("/ingest")
def ingest():
    event = request.get_json()
    try:
        user, session, metrics = event["user"], event["session"], event["metrics"]
        email, session_id, started_at = user["email"], session["id"], session["started_at"]
        talked_time = float(metrics["talked_time"])
    except (KeyError, TypeError, ValueError) as error:
        return jsonify(error=f"invalid event: {error}"), 400
    conn = connection()
    with conn.transaction():
        user_id = conn.execute(
            "INSERT INTO flask_ref.users (email, name) VALUES (lower(%s), %s) "
            "ON CONFLICT (email) DO UPDATE SET name = coalesce(excluded.name, flask_ref.users.name) "
            "RETURNING id", (email, user.get("name"))).fetchone()[0]
        session_key = conn.execute(
            "INSERT INTO flask_ref.sessions (client_session_id, user_id, started_at, ended_at, device) "
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (client_session_id) DO UPDATE SET "
            "ended_at = greatest(flask_ref.sessions.ended_at, excluded.ended_at) RETURNING id",
            (session_id, user_id, started_at, session.get("ended_at"),
             Jsonb(session["device"]) if session.get("device") else None)).fetchone()[0]
        conn.execute(
            "INSERT INTO flask_ref.events (event_id, session_id, recorded_at, talked_time, "
            "microphone_used, speaker_used, voice_sentiment) "
            "VALUES (%s, %s, coalesce(%s, now()), %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
            (event.get("event_id"), session_key, event.get("recorded_at"), talked_time,
             metrics.get("microphone_used"), metrics.get("speaker_used"), metrics.get("voice_sentiment")))
    return jsonify(status="ok")
