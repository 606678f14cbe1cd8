#!/usr/bin/env bash
# Runs the four driver examples (examples/: Node.js, Java, Rust, Python) against a
# throwaway cluster of their own and checks them. Each example ingests
# sample/events.json, prints the summary and its errors, sends an invalid batch in
# raise mode and prints the 22023 error it catches, then prints the per-user
# report. The same calls made with psql in a reference database give the expected
# lines: every example must print exactly those, and leave its database with the
# same health() counts (so the raise-mode batch stored nothing). While each
# example starts, another transaction holds rows its batch needs, so that its
# first call fails with lock_timeout (55P03) and its retry loop has to work.
#
# The extension must be installed into PostgreSQL $PG_MAJOR (cargo pgrx install,
# or the Debian package), and the examples' tools by `scripts/install.sh --examples`.
#
#   scripts/examples.sh [PORT]     cluster `examples`, port 55437 by default
source "$(dirname "$0")/common.sh"

port="${1:-55437}"
cluster="$(cluster_name examples)"
socket_dir="$USER_METRICS_RUN_DIR/$cluster"
examples="$REPO_ROOT/examples"
names=(node java rust python)

say "Building the examples"
(cd "$examples/node" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$examples/java" && rm -rf build &&
    javac -Xlint:all -Werror -d build -cp /usr/share/java/postgresql.jar IngestExample.java)
(cd "$examples/rust" && cargo fmt --check && cargo clippy --locked --all-targets -- -D warnings &&
    cargo build --locked)
"$REPO_ROOT/.venv/bin/python" -c "import psycopg"

# How each example runs, from its own folder.
run_example() {
    case "$1" in
    node) node ingest_example.js ;;
    java) java -cp build:/usr/share/java/postgresql.jar IngestExample ;;
    rust) target/debug/user_metrics_example ;;
    python) "$REPO_ROOT/.venv/bin/python" ingest_example.py ;;
    esac
}

psql_as_postgres() {
    "$(pg_bindir)/psql" --no-psqlrc -qAt -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$port" -U postgres "$@"
}

say "Starting a throwaway PostgreSQL $PG_MAJOR ($cluster) on port $port"
"$REPO_ROOT/scripts/cluster.sh" remove "$cluster"
trap '"$REPO_ROOT/scripts/cluster.sh" remove "$cluster"' EXIT
"$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$port"
# The examples connect as an application does: over TCP, as a login role with a
# password and only the extension's writer and reader roles. (JDBC cannot use a
# Unix socket without a native library.) postgres stays on the socket only.
psql_as_postgres -d postgres -c "ALTER SYSTEM SET listen_addresses = '127.0.0.1'"
printf '%s\n' 'local all postgres trust' 'host all metrics_app 127.0.0.1/32 scram-sha-256' |
    as_pg_user tee "$socket_dir/data/pg_hba.conf" >/dev/null
"$REPO_ROOT/scripts/cluster.sh" stop "$cluster"
"$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$port"

password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# One database per example, and one for the reference, all copies of a template
# holding the extension.
psql_as_postgres -d postgres <<SQL
CREATE DATABASE examples_template;
\c examples_template
SET client_min_messages = warning;
CREATE EXTENSION user_metrics;
CREATE ROLE metrics_app LOGIN PASSWORD '$password';
GRANT user_metrics_writer, user_metrics_reader TO metrics_app;
-- A call that waits longer for a row fails with 55P03 (see the blocker below).
ALTER ROLE metrics_app SET lock_timeout = '1s';
\c postgres
CREATE DATABASE examples_reference TEMPLATE examples_template;
CREATE DATABASE examples_node TEMPLATE examples_template;
CREATE DATABASE examples_java TEMPLATE examples_template;
CREATE DATABASE examples_rust TEMPLATE examples_template;
CREATE DATABASE examples_python TEMPLATE examples_template;
SQL

say "The expected output, from the same calls made with psql"
expected="$socket_dir/expected.out"
psql_as_postgres -d examples_reference -v events="$(cat "$REPO_ROOT/sample/events.json")" \
    >"$expected" <<'SQL'
SELECT user_metrics.ingest_metrics(:'events'::jsonb) AS summary \gset
SELECT format('summary: accepted=%s duplicates=%s rejected=%s',
              s->>'accepted', s->>'duplicates', s->>'rejected')
FROM (SELECT :'summary'::jsonb AS s) AS call;
SELECT format('error: index=%s code=%s message=%s', e->>'index', e->>'code', e->>'message')
FROM jsonb_array_elements(:'summary'::jsonb->'errors') AS e;
SELECT format('report: %s sessions=%s talked_time=%s', email, session_count, total_talked_time)
FROM user_metrics.aggregate_user_metrics();
SQL
# The invalid batch every example sends in raise mode; psql's verbose error gives
# the SQLSTATE, the message and the DETAIL.
bad_batch='[{"event_id": "raise-1", "user": {"email": "eve@example.com"},
  "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": 10}},
 {"event_id": "raise-2", "user": {"email": "eve@example.com"},
  "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"}, "metrics": {"talked_time": -5}}]'
if psql_as_postgres -d examples_reference -v VERBOSITY=verbose -v bad="$bad_batch" \
    <<<"SELECT user_metrics.ingest_metrics(:'bad'::jsonb, 'raise')" 2>"$socket_dir/raise.err"; then
    echo "raise mode accepted the invalid batch" >&2
    exit 1
fi
sed -nE 's/^ERROR:  ([0-9A-Z]{5}): /raise: sqlstate=\1 message=/p; s/^DETAIL:  /detail: /p' \
    "$socket_dir/raise.err" >>"$expected"
grep -q '^raise: sqlstate=22023 ' "$expected" || { cat "$socket_dir/raise.err" >&2; exit 1; }

health_counts() {
    psql_as_postgres -d "$1" -c \
        "SELECT format('users=%s sessions=%s events=%s rejected=%s', h->>'users', h->>'sessions', h->>'events', h->>'rejected')
         FROM user_metrics.health() AS h"
}
expected_counts="$(health_counts examples_reference)"

# Holds the first sample event's user, session and event, inserted and not
# committed, for 3 s, then rolls back. The example's first call waits for them
# and fails after lock_timeout (1 s); a retry gets through once they are gone,
# and stores what it would have stored anyway.
start_blocker() {
    psql_as_postgres -d "$1" -v events="$(cat "$REPO_ROOT/sample/events.json")" >/dev/null <<'SQL' &
BEGIN;
SELECT user_metrics.ingest_metrics((:'events'::jsonb)->0);
SELECT pg_sleep(3);
ROLLBACK;
SQL
    blocker=$!
    until [ "$(psql_as_postgres -d postgres -c "SELECT count(*) FROM pg_stat_activity
               WHERE datname = '$1' AND query LIKE 'SELECT pg_sleep%'")" = 1 ]; do
        kill -0 "$blocker" 2>/dev/null || { echo "the blocking transaction failed" >&2; exit 1; }
        sleep 0.1
    done
}

for name in "${names[@]}"; do
    say "Example: $name"
    output="$socket_dir/$name.out"
    start_blocker "examples_$name"
    (cd "$examples/$name" &&
        export USER_METRICS_DSN="postgresql://metrics_app:$password@127.0.0.1:$port/examples_$name" &&
        run_example "$name") | tee "$output"
    wait "$blocker"
    timeouts="$(grep -c "metrics_app@examples_$name ERROR:  canceling statement due to lock timeout" \
        "$socket_dir/postgres.log" || true)"
    if [ "$timeouts" -lt 1 ]; then
        echo "examples/$name never met the lock timeout: its retry was not exercised" >&2
        exit 1
    fi
    if ! diff -u <(sort "$expected") <(sort "$output"); then
        echo "examples/$name printed other lines than expected (- expected, + printed)" >&2
        exit 1
    fi
    counts="$(health_counts "examples_$name")"
    if [ "$counts" != "$expected_counts" ]; then
        echo "examples/$name left $counts in its database, expected $expected_counts" >&2
        exit 1
    fi
    echo "(retried after $timeouts lock timeout(s); health(): $counts)"
done

say "All ${#names[@]} examples printed the expected $(wc -l <"$expected") lines and stored the same rows ($expected_counts)"
