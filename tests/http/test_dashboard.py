"""The dashboard in a real browser: Debian's chromium driven by Playwright,
against the demo data (sample/events.json). A token that is not a reader's gets
the login form and no data; a reader token gets the charts, and what each chart
plotted (the arrays uPlot drew, which the page keeps in window.dashboard) must be
what the JSON routes return for the same settings. Screenshots are saved beside
the test's files, and to USER_METRICS_DASHBOARD_SCREENSHOT if set (the README's
docs/dashboard.png)."""
import datetime
import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import requests

from conftest import ROOT, wait_until

TZ = "Europe/Berlin"
SETTINGS = {"from": "2026-11-02", "to": "2026-11-22", "tz": TZ, "week_ending": "2026-11-23"}


@pytest.fixture
def demo(server, db):
    """The demo data, ingested through the server."""
    events = (ROOT / "sample" / "events.json").read_text()
    summary = requests.post(server.url + "/ingest", data=events, headers=server.writer, timeout=30).json()
    assert summary["accepted"] > 250 and summary["rejected"] > 0, summary
    return summary


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.requested = []
    page.on("request", lambda request: page.requested.append(request))
    page.goto(server.url + "/dashboard?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in SETTINGS.items()))
    wait_until(page, "window.dashboard && window.dashboard.status === 'login'")
    yield page
    context.close()


def sign_in(page, token):
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")


def plotted(page, chart):
    return page.evaluate(f"window.dashboard.charts.{chart}.data")


def route(server, path, **params):
    response = requests.get(server.url + path, params=params, headers=server.reader, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def day_seconds(day):
    return datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc).timestamp()


def local_midnight(day, tz):
    return datetime.datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(tz)).isoformat()


def screenshot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_a_token_that_is_not_a_reader_s_gets_the_login_form_and_no_data(page, server, demo, tmp_path):
    assert page.is_visible("#login-form") and not page.is_visible("#board")
    for token, message in [("umt_" + "0" * 64, "Unknown token."),
                           (server.tokens["user_metrics_writer"], "This token cannot read the reports")]:
        sign_in(page, token)
        page.wait_for_selector("#login-error:not([hidden])")
        assert page.inner_text("#login-error").startswith(message)
        assert page.is_visible("#login-form") and not page.is_visible("#board")
        assert page.evaluate("Object.keys(window.dashboard.charts).length") == 0
        assert page.evaluate("window.dashboard.token") is None
    # Nothing but the check of the token itself was asked of the server.
    asked = {r.url.split("?")[0].removeprefix(server.url) for r in page.requested if r.resource_type == "fetch"}
    assert asked == {"/health"}, asked
    screenshot(page, tmp_path, "dashboard-refused")


def test_the_charts_show_what_the_json_routes_return(page, server, demo, tmp_path):
    token = server.tokens["user_metrics_reader"]
    sign_in(page, token)
    wait_until(page, "window.dashboard.status === 'ready'")
    assert page.is_visible("#board") and not page.is_visible("#login-form")

    weekly = route(server, "/reports/weekly", week_ending=SETTINGS["week_ending"], tz=TZ)
    assert len(weekly) >= 5
    x, talked = plotted(page, "weekly")
    assert x == list(range(len(weekly)))
    assert talked == [row["total_talked_time"] for row in weekly]
    assert page.evaluate("window.dashboard.labels.weekly") == [row["email"] for row in weekly]
    assert page.locator("#weekly-table tbody tr").count() == len(weekly)

    activity = route(server, "/reports/activity", **{"from": SETTINGS["from"], "to": SETTINGS["to"], "tz": TZ,
                                                     "per": "day"})
    assert len(activity) == 21 and sum(row["session_count"] for row in activity) >= 50
    x, talked, sessions = plotted(page, "activity")
    assert x == [day_seconds(row["period_start"]) for row in activity]
    assert talked == [row["total_talked_time"] for row in activity]
    assert sessions == [row["session_count"] for row in activity]

    # The week's top user, over the range's local days.
    user = weekly[0]["email"]
    assert page.evaluate("window.dashboard.user") == user
    own = route(server, f"/users/{quote(user, safe='@')}/sessions", since=local_midnight(SETTINGS["from"], TZ),
                until=local_midnight("2026-11-23", TZ))
    assert own
    x, talked = plotted(page, "sessions")
    assert x == [datetime.datetime.fromisoformat(row["started_at"]).timestamp() for row in own]
    assert talked == [row["talked_time"] for row in own]
    assert page.evaluate("window.dashboard.labels.sessions") == [row["session_id"] for row in own]

    today = datetime.datetime.now(datetime.timezone.utc).date()
    ingestion = route(server, "/reports/ingestion", **{"from": str(today - datetime.timedelta(days=29)),
                                                       "to": str(today)})
    assert ingestion and ingestion[-1]["accepted"] >= demo["accepted"]
    data = plotted(page, "ingestion")
    codes = sorted({code for row in ingestion for code in row["rejected_by_code"]})
    assert codes and page.evaluate("window.dashboard.labels.ingestion") == \
        ["accepted", "duplicates"] + [f"rejected: {code}" for code in codes]
    assert data[0] == [day_seconds(row["day"]) for row in ingestion]
    assert data[1] == [row["accepted"] for row in ingestion]
    assert data[2] == [row["duplicates"] for row in ingestion]
    for i, code in enumerate(codes):
        assert data[3 + i] == [row["rejected_by_code"].get(code, 0) for row in ingestion]

    health = route(server, "/health")
    for key in ["users", "sessions", "events", "rejected"]:
        assert page.inner_text(f"#health-{key}") == str(health[key]), key

    shot = screenshot(page, tmp_path, "dashboard")
    if os.environ.get("USER_METRICS_DASHBOARD_SCREENSHOT"):
        shutil.copy(shot, os.environ["USER_METRICS_DASHBOARD_SCREENSHOT"])

    # Per week, for another user: the controls ask again.
    other = weekly[1]["email"]
    page.select_option("#per", "week")
    page.fill("#user", other)
    page.click("#controls button[type=submit]")
    wait_until(page, f"window.dashboard.status === 'ready' && window.dashboard.user === {json.dumps(other)}")
    weeks = route(server, "/reports/activity", **{"from": SETTINGS["from"], "to": SETTINGS["to"], "tz": TZ,
                                                  "per": "week"})
    assert [len(weeks), plotted(page, "activity")[1]] == [3, [row["total_talked_time"] for row in weeks]]
    own = route(server, f"/users/{quote(other, safe='@')}/sessions", since=local_midnight(SETTINGS["from"], TZ),
                until=local_midnight("2026-11-23", TZ))
    assert plotted(page, "sessions")[1] == [row["talked_time"] for row in own]

    # The token went in headers only: never in an address.
    assert all(token not in r.url for r in page.requested) and token not in page.url
    # Signing out forgets it.
    page.click("#sign-out")
    assert page.is_visible("#login-form") and page.evaluate("window.dashboard.token") is None


def test_the_page_is_served_from_the_binary_with_a_strict_policy(server):
    response = requests.get(server.url + "/", timeout=10, allow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    page = requests.get(server.url + "/dashboard", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
    vendored = ROOT / "http" / "dashboard" / "node_modules" / "uplot"
    for name, source in [("uPlot.iife.min.js", vendored / "dist" / "uPlot.iife.min.js"),
                         ("uPlot.LICENSE", vendored / "LICENSE"),
                         ("dashboard.js", ROOT / "http" / "dashboard" / "dashboard.js")]:
        response = requests.get(server.url + "/dashboard/" + name, timeout=10)
        assert response.status_code == 200 and response.content == Path(source).read_bytes(), name
    assert "MIT" in requests.get(server.url + "/dashboard/uPlot.LICENSE", timeout=10).text
    assert requests.get(server.url + "/dashboard/../Cargo.toml", timeout=10).status_code == 404
