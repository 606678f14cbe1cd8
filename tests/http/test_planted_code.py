"""Nothing planted runs: a login role whose only right is CREATE on the database
(and CREATE on schema public, as every role had before PostgreSQL 15) makes a
schema named like each role the server's connections act as, and like its login
role, and puts in them and in public a function of the exact argument types of
everything the server calls, each of which writes to her table. In the default
search_path ("$user", public) those would be chosen over PostgreSQL's own
(to_jsonb(anyelement), jsonb_agg(anyelement), jsonb_build_object(VARIADIC "any")).
First the statements the server used to send show that they would run; then
every route is called, with and without tokens, and her table stays empty."""
import psycopg
import pytest
import requests

from conftest import BOGUS_ROLE, LOGIN_ROLE, server_conninfo
from events import event

PLANTER = "http_planter"
SCHEMAS = ["user_metrics_writer", "user_metrics_reader", BOGUS_ROLE, LOGIN_ROLE, "public"]

# name(argument types) -> what it returns, for everything a statement of the
# server calls, or called before it named everything with its schema. Each
# records its call, then does what the real one does, so that nothing else fails.
FUNCTIONS = {
    "to_jsonb(record)": "RETURNS jsonb AS $$ BEGIN {record}; RETURN pg_catalog.to_jsonb($1); END $$",
    "jsonb_agg_step(jsonb, jsonb)": "RETURNS jsonb AS $$ BEGIN {record}; "
                                    "RETURN coalesce($1, '[]') || pg_catalog.jsonb_build_array($2); END $$",
    "jsonb_build_object(text, jsonb, text, jsonb)":
        "RETURNS jsonb AS $$ BEGIN {record}; RETURN pg_catalog.jsonb_build_object($1, $2, $3, $4); END $$",
    "jsonb_minus(jsonb, text)": "RETURNS jsonb AS $$ BEGIN {record}; RETURN $1 OPERATOR(pg_catalog.-) $2; END $$",
    "jsonb_arrow(jsonb, text)": "RETURNS jsonb AS $$ BEGIN {record}; RETURN $1 OPERATOR(pg_catalog.->) $2; END $$",
    "ingest_metrics(jsonb, text)": "RETURNS jsonb AS $$ BEGIN {record}; RETURN '{{}}'; END $$",
    "health()": "RETURNS jsonb AS $$ BEGIN {record}; RETURN '{{\"status\": \"ok\"}}'; END $$",
    "aggregate_user_metrics(text, timestamptz, timestamptz)":
        "RETURNS TABLE (email text) AS $$ BEGIN {record}; END $$",
    "get_session_details(text, text)": "RETURNS TABLE (session_id text) AS $$ BEGIN {record}; END $$",
    "generate_weekly_report(date, text)": "RETURNS TABLE (email text) AS $$ BEGIN {record}; END $$",
}
AGGREGATES = ["CREATE AGGREGATE {schema}.jsonb_agg(jsonb) (SFUNC = {schema}.jsonb_agg_step, STYPE = jsonb)"]
OPERATORS = ["CREATE OPERATOR {schema}.- (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = {schema}.jsonb_minus)",
             "CREATE OPERATOR {schema}.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = {schema}.jsonb_arrow)"]

# The statements the server sent before every name in them was qualified.
UNQUALIFIED = [
    "SELECT to_jsonb(r)::text FROM user_metrics.aggregate_user_metrics('plant@example.com') AS r",
    "SELECT coalesce(jsonb_agg(to_jsonb(r) - 'ordinality' ORDER BY r.ordinality), '[]')::text "
    "FROM user_metrics.get_session_details('s-plant') WITH ORDINALITY AS r",
    "SELECT jsonb_build_object('status', h->'status', 'version', h->'version')::text FROM user_metrics.health() AS h",
]


@pytest.fixture
def planted(dsn, db):
    """The planter's schemas and functions; her table planter.loot, which every
    role may write to. Removed afterwards."""
    db.execute(f"DROP ROLE IF EXISTS {PLANTER}")
    db.execute(f"CREATE ROLE {PLANTER} LOGIN")
    db.execute(f"GRANT CREATE ON DATABASE {db.info.dbname} TO {PLANTER}")
    db.execute(f"GRANT CREATE ON SCHEMA public TO {PLANTER}")
    try:
        with psycopg.connect(psycopg.conninfo.make_conninfo(dsn, user=PLANTER), autocommit=True) as her:
            her.execute("CREATE SCHEMA planter")
            her.execute("CREATE TABLE planter.loot (called text, as_role text, at timestamptz DEFAULT now())")
            her.execute("GRANT USAGE ON SCHEMA planter TO PUBLIC")
            her.execute("GRANT INSERT ON planter.loot TO PUBLIC")
            for schema in SCHEMAS:
                if schema != "public":
                    her.execute(f'CREATE SCHEMA "{schema}"')
                    her.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO PUBLIC')
                for signature, body in FUNCTIONS.items():
                    name = signature.split("(")[0]
                    record = f"INSERT INTO planter.loot (called, as_role) VALUES ('{schema}.{name}', current_user)"
                    her.execute(f'CREATE FUNCTION "{schema}".{signature} {body.format(record=record)} '
                                "LANGUAGE plpgsql")
                for statement in AGGREGATES + OPERATORS:
                    her.execute(statement.format(schema=f'"{schema}"'))
            yield her
    finally:
        db.execute(f"DROP OWNED BY {PLANTER} CASCADE")
        db.execute(f"DROP ROLE {PLANTER}")


def loot(db):
    return db.execute("SELECT called, as_role FROM planter.loot ORDER BY at").fetchall()


def test_the_planted_functions_would_run_in_the_default_search_path(server, dsn, db, planted):
    """The check below can fail: as a pool role, with the default search_path, the
    server's former statements run the planted code."""
    ingest = requests.post(server.url + "/ingest", headers=server.writer, timeout=10,
                           json=event("p-1", "plant@example.com", "s-plant", "2026-11-16T09:00:00Z", 5))
    assert ingest.json()["accepted"] == 1
    with psycopg.connect(server_conninfo(dsn), autocommit=True) as conn:
        conn.execute("SET ROLE user_metrics_reader")
        for sql in UNQUALIFIED:
            conn.execute(sql)
    called = {name for name, role in loot(db)}
    assert {"user_metrics_reader.to_jsonb", "user_metrics_reader.jsonb_agg_step",
            "user_metrics_reader.jsonb_build_object"} <= called, called
    assert {role for name, role in loot(db)} == {"user_metrics_reader"}


def test_no_route_runs_planted_code(server, db, planted):
    ingest = requests.post(server.url + "/ingest", headers=server.writer, timeout=10,
                           json=event("p-2", "plant@example.com", "s-plant", "2026-11-16T09:00:00Z", 5))
    assert ingest.status_code == 200 and ingest.json()["accepted"] == 1
    reader, writer, bogus = server.reader, server.writer, server.headers(BOGUS_ROLE)
    calls = [
        ("GET", "/health", {}, 200),
        ("GET", "/health", reader, 200),
        ("GET", "/users/plant@example.com/metrics", reader, 200),
        ("GET", "/users/plant@example.com/metrics?since=2026-11-16&until=2026-11-17", reader, 200),
        ("GET", "/users/nobody@example.com/metrics", reader, 404),
        ("GET", "/sessions/s-plant", reader, 200),
        ("GET", "/sessions/s-plant?email=plant@example.com", reader, 200),
        ("GET", "/reports/weekly?week_ending=2026-11-23&tz=UTC", reader, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/reports/weekly?week_ending=2026-11-23&tz=UTC", bogus, 403),
        ("POST", "/ingest?on_error=raise", writer, 200),
    ]
    for method, path, headers, status in calls:
        body = event("p-3", "plant@example.com", "s-plant", "2026-11-16T09:00:00Z", 1) if method == "POST" else None
        response = requests.request(method, server.url + path, headers=headers, json=body, timeout=10)
        assert response.status_code == status, (path, response.text)
    assert loot(db) == []
