"""Users that 0.3.0 stored under addresses that 0.4.0 refuses (a scheme, angle
brackets, a trailing dot, a quoted local part): after the update they stay, the
reports reach them by that address, new events under it are refused, and
forget_user reaches them, by their own address and by the address inside."""
import psycopg
from psycopg.types.json import Jsonb

from clusters import fresh_database
from events import event

STARTED = "2026-11-17T09:00:00Z"
MALFORMED_ANA = ["mailto:Ana@Example.com", "<ana@example.com>", "ana@example.com."]
QUOTED_BOB = '"bob"@example.com'


def test_users_stored_by_030_under_addresses_now_refused(dsn):
    url = fresh_database(dsn, "user_metrics_addresses_030", with_extension=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION user_metrics VERSION '0.3.0'")
        old = [event(f"old-{n}", address, f"s-{n}", STARTED, 10 + n)
               for n, address in enumerate(MALFORMED_ANA + [QUOTED_BOB, "cleo@example.com"])]
        # Quarantined by 0.3.0 for its timestamp, the address behind a scheme.
        old.append(event("old-bad", "mailto:ana@example.com", "s-bad", "2026-11-17T09:00:00", 1))
        summary = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb(old),)).fetchone()[0]
        assert (summary["accepted"], summary["rejected"]) == (5, 1), summary

        conn.execute("ALTER EXTENSION user_metrics UPDATE")
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'"
                            ).fetchone()[0] != "0.3.0"

        # They stay, and the reports reach them by the address as stored, in any case.
        assert conn.execute("SELECT email, total_talked_time FROM user_metrics.aggregate_user_metrics(%s)",
                            ("MAILTO:ANA@example.com",)).fetchall() == [("mailto:ana@example.com", 10)]
        assert conn.execute("SELECT count(*) FROM user_metrics.get_session_details('s-1', %s)",
                            ("<ana@example.com>",)).fetchone()[0] == 1
        weekly = conn.execute("SELECT email FROM user_metrics.generate_weekly_report('2026-11-23', 'UTC')"
                              ).fetchall()
        assert len(weekly) == 5

        # New events under such an address are refused, and quarantined.
        again = conn.execute("SELECT user_metrics.ingest_metrics(%s)", (Jsonb([
            event("new-1", MALFORMED_ANA[0], "s-new", "2026-11-18T09:00:00Z", 1),
        ]),)).fetchone()[0]
        assert [e["code"] for e in again["errors"]] == ["invalid_value"], again
        assert "':' is not allowed before the @" in again["errors"][0]["message"]

        # forget_user by the stored address itself.
        removed = conn.execute("SELECT user_metrics.forget_user(%s)", (QUOTED_BOB,)).fetchone()[0]
        assert (removed["users"], removed["sessions"]) == (1, 1), removed
        # forget_user of the address inside them erases every malformed form, and
        # every quarantined event that mentions it.
        removed = conn.execute("SELECT user_metrics.forget_user('ana@example.com')").fetchone()[0]
        assert (removed["users"], removed["sessions"], removed["events"], removed["quarantined"]) \
            == (3, 3, 3, 2), removed
        assert conn.execute("SELECT email FROM user_metrics.users").fetchall() == [("cleo@example.com",)]
        assert conn.execute("SELECT count(*) FROM user_metrics.rejected_events").fetchone()[0] == 0
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
        assert (health["users"], health["sessions"], health["rejected"]) == (1, 1, 0), health
