"""How Citus runs the reports' statements (sql/queries/), from EXPLAIN of each as
the extension prepares it: one user's statements go to one shard, and the weekly
report's grouping is done whole on the workers."""
import json
from pathlib import Path

from psycopg import sql

from citus import connect

QUERIES = Path(__file__).resolve().parents[2] / "sql" / "queries"


def plan(conn, name, args):
    """EXPLAIN (FORMAT JSON) of sql/queries/<name>.sql with these arguments, as
    a prepared statement with parameters like the extension's."""
    conn.execute("DEALLOCATE ALL")
    conn.execute(f"PREPARE q AS {(QUERIES / f'{name}.sql').read_text()}")
    explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE q({})").format(
        sql.SQL(", ").join(sql.Literal(arg) for arg in args))
    return conn.execute(explain).fetchone()[0][0]["Plan"]


def citus_scan(node, above=()):
    """The Citus scan of a plan, and the nodes above it."""
    if node["Node Type"] == "Custom Scan" and node.get("Custom Plan Provider", "").startswith("Citus"):
        return node, list(above)
    for child in node.get("Plans", []):
        found = citus_scan(child, above + (node["Node Type"],))
        if found:
            return found
    return None


def task_count(scan):
    return scan["Distributed Query"]["Job"]["Task Count"]


def user_key(conn, email):
    return conn.execute("SELECT user_metrics.user_key(%s)", (email,)).fetchone()[0]


def test_one_users_totals_read_one_shard(loaded):
    citus, _, _ = loaded
    with connect(citus) as conn:
        scan, above = citus_scan(plan(conn, "user_totals_one", (user_key(conn, "user00042@example.com"), None, None)))
        assert task_count(scan) == 1
        assert above == []


def test_a_session_with_its_email_is_read_from_one_shard(loaded):
    citus, _, _ = loaded
    with connect(citus) as conn:
        scan, _ = citus_scan(plan(conn, "session_details", ("sess-000042", user_key(conn, "user00042@example.com"))))
        assert task_count(scan) == 1
        # Without the e-mail, every shard is asked.
        scan, _ = citus_scan(plan(conn, "session_details_all_users", ("sess-000042",)))
        assert task_count(scan) == 32


def test_the_weekly_report_is_grouped_on_the_workers(loaded):
    citus, _, _ = loaded
    with connect(citus) as conn:
        top = plan(conn, "weekly_report", ("2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z"))
        scan, above = citus_scan(top)
        # Every shard runs the whole grouping (GROUP BY the distribution column);
        # the coordinator only sorts what they return: no aggregate there.
        assert task_count(scan) == 32
        assert above == ["Sort"], json.dumps(top, indent=1)[:2000]
        task_plan = json.dumps(scan["Distributed Query"]["Job"]["Tasks"])
        assert '"Aggregate"' in task_plan
