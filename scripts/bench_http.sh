#!/usr/bin/env bash
# Side by side over HTTP, same events, same load generator (wrk, from Debian):
#   - the seed's shape: bench/flask_reference (Flask + psycopg, one request per
#     event: upsert the user, upsert the session, insert the event) under gunicorn,
#     4 workers x 4 threads;
#   - user-metrics-http (release build), one event per request;
# each with BENCH_CLIENTS (16) connections for BENCH_SECONDS (30) after a 5-second
# warm-up; then user-metrics-http with BENCH_BATCH (1,000) events per request and
# BENCH_BATCH_CLIENTS (4) connections; then the same single events sent over
# SQL by pgbench (bench/http_events_pgbench.sql), what PostgreSQL alone takes for
# them. Prints requests/s, p99 and events/s, and checks that every event
# answered with 200 is stored. Both write into the same
# throwaway cluster (bench-http, port BENCH_PG_PORT = 55460), each into its own
# tables, started fresh and removed at the end. Not part of the test command.
#
#   ./scripts/bench_http.sh
#   BENCH_SECONDS=60 BENCH_HTTP_PORT=55461 BENCH_FLASK_PORT=55462 ./scripts/bench_http.sh
#   USER_METRICS_HTTP_BIN=/path/to/an/earlier/user-metrics-http ./scripts/bench_http.sh   (another build of the server)
source "$(dirname "$0")/common.sh"

BENCH_PG_PORT="${BENCH_PG_PORT:-55460}"
BENCH_HTTP_PORT="${BENCH_HTTP_PORT:-55461}"
BENCH_FLASK_PORT="${BENCH_FLASK_PORT:-55462}"
BENCH_SECONDS="${BENCH_SECONDS:-30}"
BENCH_CLIENTS="${BENCH_CLIENTS:-16}"
BENCH_BATCH="${BENCH_BATCH:-1000}"
BENCH_BATCH_CLIENTS="${BENCH_BATCH_CLIENTS:-4}"
cluster="${BENCH_CLUSTER:-bench-http}"
database=user_metrics_bench_http
socket_dir="$USER_METRICS_RUN_DIR/$cluster"
lua="$REPO_ROOT/bench/http_events.lua"
venv="$REPO_ROOT/.venv-bench-http"
results="$REPO_ROOT/bench/results"

"$REPO_ROOT/scripts/install.sh"
if ! command -v wrk >/dev/null; then
    say "Installing wrk (Debian package)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi
requirements="$REPO_ROOT/bench/flask_reference/requirements.txt"
if ! cmp -s "$requirements" "$venv/.requirements"; then
    say "Creating the virtualenv of the Flask reference"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.requirements"
fi

cd "$REPO_ROOT"
say "Building and installing user_metrics and user-metrics-http (release)"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags)
cargo build --release -p user-metrics-http

psql_bench() {
    "$(pg_bindir)/psql" --no-psqlrc -q -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$BENCH_PG_PORT" -U postgres "$@"
}
flask_pid=""
cleanup() {
    [ -n "$flask_pid" ] && kill -TERM "$flask_pid" 2>/dev/null && wait "$flask_pid" 2>/dev/null
    "$REPO_ROOT/scripts/http_server.sh" stop "$cluster" || true
    "$REPO_ROOT/scripts/cluster.sh" remove "$cluster" || true
}
trap cleanup EXIT

say "Starting a throwaway PostgreSQL $PG_MAJOR ($cluster, port $BENCH_PG_PORT)"
"$REPO_ROOT/scripts/cluster.sh" remove "$cluster"
"$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$BENCH_PG_PORT"
psql_bench -d postgres -c "CREATE DATABASE $database"
psql_bench -d "$database" -c "CREATE EXTENSION user_metrics" -f "$REPO_ROOT/bench/flask_reference/schema.sql"

say "Starting user-metrics-http (port $BENCH_HTTP_PORT) and the Flask reference (port $BENCH_FLASK_PORT)"
"$REPO_ROOT/scripts/http_server.sh" start "$cluster" "$BENCH_PG_PORT" "$database" "$BENCH_HTTP_PORT"
# shellcheck disable=SC1091
source "$socket_dir/http/tokens.env"
(cd "$REPO_ROOT/bench/flask_reference" &&
    FLASK_REF_DATABASE="host=$socket_dir port=$BENCH_PG_PORT dbname=$database user=postgres" \
    exec "$venv/bin/gunicorn" --workers 4 --threads 4 --worker-class gthread \
        --bind "127.0.0.1:$BENCH_FLASK_PORT" --log-level warning app:app) &
flask_pid=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$BENCH_FLASK_PORT/" && break
    sleep 0.2
done

# wrk against $1 (flask or http) with $2 connections for $3 seconds, $4 events per
# request; the run's name tags its event ids. Prints wrk's report into $results.
run_wrk() {
    local target="$1" connections="$2" seconds="$3" batch="$4" name="$5" port token=""
    if [ "$target" = flask ]; then port="$BENCH_FLASK_PORT"; else port="$BENCH_HTTP_PORT"; token="$WRITER_TOKEN"; fi
    BENCH_TOKEN="$token" BENCH_RUN="$name" wrk --threads 2 --connections "$connections" \
        --duration "${seconds}s" --latency --timeout 10s --script "$lua" \
        "http://127.0.0.1:$port" -- "$batch" >"$results/http-$name.txt"
}
requests_per_second() { sed -nE 's/^Requests\/sec: +([0-9.]+)/\1/p' "$results/http-$1.txt"; }
# p99 in ms, whatever unit wrk printed it in.
p99_ms() {
    sed -nE 's/^ +99% +([0-9.]+)(us|ms|s) *$/\1 \2/p' "$results/http-$1.txt" |
        awk '{ if ($2 == "us") print $1 / 1000; else if ($2 == "s") print $1 * 1000; else print $1 }'
}
requests_done() { sed -nE 's/^ +([0-9]+) requests in .*/\1/p' "$results/http-$1.txt"; }
failures() { sed -nE 's/^ +Non-2xx or 3xx responses: +([0-9]+)/\1/p' "$results/http-$1.txt"; }

mkdir -p "$results"
say "Warm-up: 5 s each"
run_wrk flask "$BENCH_CLIENTS" 5 1 warm-flask
run_wrk http "$BENCH_CLIENTS" 5 1 warm-http
say "One event per request, $BENCH_CLIENTS connections, $BENCH_SECONDS s each"
run_wrk flask "$BENCH_CLIENTS" "$BENCH_SECONDS" 1 flask
run_wrk http "$BENCH_CLIENTS" "$BENCH_SECONDS" 1 http
say "$BENCH_BATCH events per request, $BENCH_BATCH_CLIENTS connections, $BENCH_SECONDS s"
run_wrk http "$BENCH_BATCH_CLIENTS" "$BENCH_SECONDS" "$BENCH_BATCH" batch

# Every request answered with 200 stored its events. wrk counts the requests it
# completed (a failed one would be listed as non-2xx); those still under way when
# a run ends are not counted but may be stored: at most one per connection and run.
for run in warm-flask warm-http flask http batch; do
    if [ -n "$(failures "$run")" ]; then
        echo "run $run: $(failures "$run") requests failed (see $results/http-$run.txt)" >&2
        exit 1
    fi
done
stored_flask="$(psql_bench -d "$database" -tAc "SELECT count(*) FROM flask_ref.events")"
stored_http="$(psql_bench -d "$database" -tAc "SELECT count(*) FROM user_metrics.events")"
sent_flask=$(($(requests_done warm-flask) + $(requests_done flask)))
sent_http=$(($(requests_done warm-http) + $(requests_done http) + BENCH_BATCH * $(requests_done batch)))
echo "events stored: Flask $stored_flask for $sent_flask answered, user-metrics-http $stored_http for $sent_http answered"
slack_flask=$((2 * BENCH_CLIENTS))
slack_http=$((2 * BENCH_CLIENTS + BENCH_BATCH * BENCH_BATCH_CLIENTS))
if [ "$stored_flask" -lt "$sent_flask" ] || [ "$stored_flask" -gt $((sent_flask + slack_flask)) ] ||
    [ "$stored_http" -lt "$sent_http" ] || [ "$stored_http" -gt $((sent_http + slack_http)) ]; then
    echo "the events stored do not match the requests answered" >&2
    exit 1
fi

say "The same events over SQL, one per call (pgbench -M prepared), $BENCH_CLIENTS clients, $BENCH_SECONDS s"
"$(pg_bindir)/pgbench" -n -h "$socket_dir" -p "$BENCH_PG_PORT" -U postgres -c "$BENCH_CLIENTS" -j 2 \
    -T "$BENCH_SECONDS" -M prepared -f "$REPO_ROOT/bench/http_events_pgbench.sql" "$database" \
    >"$results/http-pgbench.txt"
sql_tps="$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$results/http-pgbench.txt")"
sql_latency="$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$results/http-pgbench.txt")"

flask_rps="$(requests_per_second flask)"
http_rps="$(requests_per_second http)"
batch_rps="$(requests_per_second batch)"
{
    echo "machine: $(nproc) cores, $(uname -sr); PostgreSQL $("$(pg_bindir)/postgres" --version | sed -E 's/^[^0-9]*([0-9.]+).*/\1/')"
    echo "wrk --threads 2 --latency, bench/http_events.lua, ${BENCH_SECONDS} s per run after a 5 s warm-up"
    echo
    printf '%-44s %12s %10s\n' "one event per request, $BENCH_CLIENTS connections" "requests/s" "p99 ms"
    printf '%-44s %12s %10s\n' "Flask + psycopg (gunicorn 4 x 4 threads)" "$flask_rps" "$(p99_ms flask)"
    printf '%-44s %12s %10s\n' "user-metrics-http" "$http_rps" "$(p99_ms http)"
    awk -v a="$http_rps" -v b="$flask_rps" 'BEGIN { printf "%-44s %11.2fx\n", "ratio", a / b }'
    printf '%-44s %12.2f %10s\n' "same events over SQL, no HTTP (pgbench)" "$sql_tps" "avg $sql_latency"
    echo
    printf '%-44s %12s %10s %12s\n' "$BENCH_BATCH events per request, $BENCH_BATCH_CLIENTS connections" \
        "requests/s" "p99 ms" "events/s"
    printf '%-44s %12s %10s %12.0f\n' "user-metrics-http" "$batch_rps" "$(p99_ms batch)" \
        "$(awk -v a="$batch_rps" -v b="$BENCH_BATCH" 'BEGIN { print a * b }')"
} | tee "$results/http-summary.txt"
