"""The weekly report in a calendar: the same week, to the hour, whatever time zone
the client's session runs on, across a change of the clocks; a NULL or unknown
argument is an error with its SQLSTATE, not an empty report."""
import psycopg
import pytest
from psycopg.types.json import Jsonb

from events import event

# Around Berlin's change to winter time on Sunday 2026-10-25: the first and the
# last local hour of the week of 19 to 25 October, and the hour on each side.
EVENTS = [
    event("in-first", "ana@x", "s1", "2026-10-18T22:30:00Z", 10),   # Mon 00:30 CEST
    event("in-last", "ana@x", "s2", "2026-10-25T22:30:00Z", 20),    # Sun 23:30 CET
    event("before", "bob@x", "s3", "2026-10-18T21:30:00Z", 40),     # Sun 23:30 CEST
    event("after", "bob@x", "s4", "2026-10-25T23:30:00Z", 80),      # Mon 00:30 CET
]
REPORT = "SELECT email, session_count, total_talked_time FROM user_metrics.generate_weekly_report(%s, %s)"


@pytest.mark.parametrize("session_zone", ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"])
def test_a_calendar_week_is_the_same_in_every_session_time_zone(db, session_zone):
    db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(EVENTS),))
    db.execute(f"SET TimeZone = '{session_zone}'")
    assert db.execute(REPORT, ("2026-10-26", "Europe/Berlin")).fetchall() == [("ana@x", 2, 30)]
    assert db.execute(REPORT, ("2026-10-19", "Europe/Berlin")).fetchall() == [("bob@x", 1, 40)]
    assert db.execute(REPORT, ("2026-11-02", "Europe/Berlin")).fetchall() == [("bob@x", 1, 80)]


def test_null_and_unknown_arguments_are_errors(db):
    with pytest.raises(psycopg.errors.NullValueNotAllowed):
        db.execute(REPORT, (None, "Europe/Berlin"))
    with pytest.raises(psycopg.errors.NullValueNotAllowed):
        db.execute(REPORT, ("2026-10-26", None))
    with pytest.raises(psycopg.errors.NullValueNotAllowed):
        db.execute("SELECT * FROM user_metrics.generate_weekly_report(NULL::timestamptz)")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute(REPORT, ("2026-10-26", "Europe/Atlantis"))


@pytest.mark.parametrize("tz", ["+03:00", "UTC+3", "-05", "EST5EDT,M3.2.0,M11.1.0", "CEST", "cest",
                                " UTC", ":UTC", "Europe/Berlin/", "../UTC", ""])
def test_tz_other_than_a_name_of_the_tz_database_is_refused_with_a_hint(db, tz):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
        db.execute(REPORT, ("2026-10-26", tz))
    diag = refused.value.diag
    assert diag.message_primary == f'time zone "{tz}" is not a name of the tz database'
    assert "pg_timezone_names" in diag.message_hint and "'+03:00'" in diag.message_hint


def test_every_name_the_server_lists_is_accepted_in_any_case(db):
    names = [row[0] for row in db.execute("SELECT name FROM pg_timezone_names ORDER BY name")]
    assert "America/Havana" in names and "UTC" in names
    for name in names + ["utc", "europe/berlin", "AMERICA/HAVANA"]:
        assert db.execute(REPORT, ("2026-10-26", name)).fetchall() == [], name


def test_the_day_the_clocks_go_back_at_midnight_begins_at_the_first_midnight(db):
    # America/Havana, 2025-11-02: at 01:00 CDT the clocks show 00:00 again (CST).
    db.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([
        event("h1", "cora@x", "saturday-2330", "2025-11-02T03:30:00Z", 1),
        event("h2", "cora@x", "sunday-0030-cdt", "2025-11-02T04:30:00Z", 2),
        event("h3", "cora@x", "sunday-0030-cst", "2025-11-02T05:30:00Z", 4),
    ]),))
    assert db.execute(REPORT, ("2025-11-02", "America/Havana")).fetchall() == [("cora@x", 1, 1)]
    assert db.execute(REPORT, ("2025-11-09", "America/Havana")).fetchall() == [("cora@x", 2, 6)]
