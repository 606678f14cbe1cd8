"""Prints pgbench scripts made from sql/queries/store_one.sql, the one statement
of a call of one event, for bench/one_event_parts.sh: the statement run as plain
SQL (prepared by pgbench, no function around it) with the values of
bench/one_event_per_call.sql in place of its parameters, whole or without the
counters (`counted` and `stat`).

    python3 bench/one_event_parts.py whole|no_counters
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
    15: "NULL", 16: "'12.5'", 17: "true", 18: "false", 19: "'0.25'", 20: ":client_id",
    21: "(EXTRACT(epoch FROM statement_timestamp()) * 1000000)::bigint",
}
HEADER = "\\set u random(0, :users - 1)\n\\set k random(0, 3)\n\\set n random(1, 2000000000)\n"


def script(variant):
    lines = (ROOT / "sql" / "queries" / "store_one.sql").read_text().splitlines()
    sql = "\n".join(line for line in lines if not line.startswith("--"))
    if variant == "no_counters":
        start, end = sql.index("counted AS ("), sql.index("\nSELECT EXISTS (SELECT FROM stored)")
        sql = sql[:start].rstrip().rstrip(",") + sql[end:]
        sql = sql.replace(",\n       EXISTS (SELECT FROM stat) AS recorded", "")
    elif variant != "whole":
        raise SystemExit(f"unknown variant {variant}")
    sql = re.sub(r"\$(\d+)", lambda m: VALUES[int(m.group(1))], sql)
    if "$" in sql or "stat" in sql and variant == "no_counters":
        raise SystemExit("store_one.sql changed: update bench/one_event_parts.py")
    return HEADER + sql.strip() + ";\n"


if __name__ == "__main__":
    sys.stdout.write(script(sys.argv[1]))
