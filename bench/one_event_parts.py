"""Prints a pgbench script made from sql/queries/store_one.sql, the one statement
of a call of one event, for bench/one_event_parts.sh: the statement run as plain
SQL (prepared by pgbench, no function around it) with the values of
bench/one_event_per_call.sql in place of its parameters. (The call's counters
and statistics are not in the statement: the function changes their rows in
place after it.)

    python3 bench/one_event_parts.py
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The parameters of store_one.sql, as the events of one_event_per_call.sql have
# them (user i, session k of 4, a new event_id per call).
VALUES = {
    1: ":u", 2: "('user' || :u || '@example.com')", 3: "NULL", 4: "('pb-' || :u || '-' || :k)",
    5: "'2026-11-20T10:00:00Z'", 6: "'2026-11-20T10:30:00Z'", 7: "NULL", 8: "1", 9: "'12.5'",
    10: "true", 11: "false", 12: "'0.25'", 13: "1", 14: "('pb-' || :client_id || '-' || :n)",
    15: "NULL", 16: "'12.5'", 17: "true", 18: "false", 19: "'0.25'",
}
HEADER = "\\set u random(0, :users - 1)\n\\set k random(0, 3)\n\\set n random(1, 2000000000)\n"


def script():
    lines = (ROOT / "sql" / "queries" / "store_one.sql").read_text().splitlines()
    sql = "\n".join(line for line in lines if not line.startswith("--"))
    sql = re.sub(r"\$(\d+)", lambda m: VALUES.get(int(m.group(1)), m.group(0)), sql)
    if "$" in sql:
        raise SystemExit("store_one.sql changed: update bench/one_event_parts.py")
    return HEADER + sql.strip() + ";\n"


if __name__ == "__main__":
    sys.stdout.write(script())
