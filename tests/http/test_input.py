"""Anything in a path or a query that is not what the route takes gets 400,
naming the field, before the database is asked: NUL and other control
characters, over-long identifiers, and dates or timestamps that are not ISO 8601
(PostgreSQL alone would take 'yesterday', 'epoch' or 'infinity' as dates).
Never a 500."""
import requests

from conftest import PORT

NUL = "%00"
BAD_DATES = ["yesterday", "today", "tomorrow", "epoch", "infinity", "-infinity", "now", "allballs",
             "20261123", "11/23/2026", "2026-11-31", "2026-13-01", "2026-11-23T00:00:00Z", "2026-11-23%00",
             " 2026-11-23", ""]
BAD_TIMESTAMPS = ["yesterday", "now", "epoch", "infinity", "1700000000", "2026-11-23 10:00:00",
                  "2026-11-23T25:00", "2026-11-23T10:00:00+1", "2026-11-23T10:00:00%00", "2026-02-30", ""]


def get(server, path):
    # The path as written: requests would otherwise re-encode it.
    session = requests.Session()
    request = requests.Request("GET", server.url + path, headers=server.reader).prepare()
    request.url = server.url + path
    return session.send(request, timeout=10)


def assert_400(response, field):
    assert response.status_code == 400, (response.request.url, response.text)
    body = response.json()
    assert body["error"] == "bad_request" and "sqlstate" not in body, body
    assert body["message"].startswith(field), (field, body)


def test_nul_and_control_characters_in_a_path(server, db):
    for path, field in [(f"/users/a{NUL}b@example.com/metrics", "email"),
                        ("/users/a%0Ab@example.com/metrics", "email"),
                        (f"/sessions/s{NUL}1", "session id"),
                        ("/sessions/s%1B1", "session id"),
                        (f"/sessions/s-1?email=a{NUL}@example.com", "email")]:
        assert_400(get(server, path), field)


def test_over_long_identifiers(server, db):
    assert_400(get(server, f"/users/{'a' * 250}@example.com/metrics"), "email")
    assert_400(get(server, f"/sessions/{'s' * 129}"), "session id")
    assert get(server, f"/sessions/{'s' * 128}").status_code == 404


def test_dates_and_timestamps_must_be_iso_8601(server, db):
    for value in BAD_DATES:
        assert_400(get(server, f"/reports/weekly?week_ending={value}&tz=UTC"), "week_ending")
    for value in BAD_TIMESTAMPS:
        assert_400(get(server, f"/users/a@example.com/metrics?since={value}"), "since")
        assert_400(get(server, f"/users/a@example.com/metrics?until={value}"), "until")
    # A '+' of an offset left unencoded is read as a space: the message says so.
    response = get(server, "/users/a@example.com/metrics?since=2026-11-23T10:00:00+01:00")
    assert_400(response, "since")
    assert "%2B" in response.json()["message"]
    for value in ["2026-11-23", "2026-11-23T10:00", "2026-11-23T10:00:00.25Z", "2026-11-23T10:00:00%2B01:00"]:
        assert get(server, f"/users/a@example.com/metrics?since={value}").status_code == 404, value
    assert get(server, "/reports/weekly?week_ending=2024-02-29&tz=UTC").status_code == 200


def test_other_query_values(server, db):
    assert_400(get(server, f"/reports/weekly?week_ending=2026-11-23&tz=UTC{NUL}"), "tz")
    assert_400(get(server, f"/reports/weekly?week_ending=2026-11-23&tz={'x' * 65}"), "tz")
    response = requests.post(server.url + f"/ingest?on_error=raise{NUL}", data="[]", headers=server.writer,
                             timeout=10)
    assert_400(response, "on_error")
    # Not UTF-8, or a parameter twice: the query as a whole.
    assert get(server, "/reports/weekly?week_ending=2026-11-23&tz=%FF").status_code == 400
    assert get(server, "/reports/weekly?week_ending=2026-11-23&tz=UTC&tz=UTC").status_code == 400
    assert get(server, "/users/%FF@example.com/metrics").status_code == 400


def test_a_hostile_value_never_gets_a_500(server, db):
    values = ["%00", "%00%00", "%C0%80", "%ED%A0%80", "%F4%90%80%80", "%EF%BF%BF", "%7F", "%FF%FE",
              "'--", "%27%3B%20DROP%20TABLE%20x%3B--", "%25", "a" * 3000, "%E2%80%8B", "..%2F..%2F"]
    paths = ["/users/{v}/metrics", "/users/a@example.com/metrics?since={v}", "/users/a@example.com/metrics?until={v}",
             "/sessions/{v}", "/sessions/s?email={v}", "/reports/weekly?week_ending={v}&tz=UTC",
             "/reports/weekly?week_ending=2026-11-23&tz={v}", "/health?{v}"]
    for template in paths:
        for value in values:
            response = get(server, template.format(v=value))
            assert response.status_code < 500, (template, value, response.text)
