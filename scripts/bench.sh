#!/usr/bin/env bash
# The benchmark (bench/run.py): user_metrics against the PL/pgSQL reference in
# bench/reference.sql and against COPY, on one synthetic workload, in one run, on a
# throwaway cluster of its own (port 55434); on PostgreSQL 15 also the same
# ingestion distributed over a throwaway Citus cluster (ports 55450-55452). Builds and installs the release build
# first. Flags go to bench/run.py (see --help), e.g. --events 50000 or --big.
source "$(dirname "$0")/common.sh"

BENCH_PORT="${BENCH_PORT:-55434}"
bench_cluster="$(cluster_name bench)"
bench_dir="$USER_METRICS_RUN_DIR/$bench_cluster"

"$REPO_ROOT/scripts/install.sh" --python
"$REPO_ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$REPO_ROOT/bench/requirements.txt"

say "Building and installing user_metrics (release)"
cd "$REPO_ROOT"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags)

say "Starting the benchmark cluster on port $BENCH_PORT"
"$REPO_ROOT/scripts/cluster.sh" start "$bench_cluster" "$BENCH_PORT"
# Both clusters are stopped when the script ends, however it ends (their data
# stays, for a look at what the run stored).
citus_started=false
stop_clusters() {
    "$REPO_ROOT/scripts/cluster.sh" stop "$bench_cluster" || true
    if $citus_started; then
        "$REPO_ROOT/scripts/citus_cluster.sh" stop || true
    fi
}
trap stop_clusters EXIT

# The Citus row (PostgreSQL 15 only): the same ingestion into a throwaway Citus
# cluster of a coordinator and two workers (scripts/citus_cluster.sh, ports
# CITUS_PORT to CITUS_PORT + 2).
citus_args=()
if [ "$PG_MAJOR" = 15 ]; then
    export CITUS_PORT="${BENCH_CITUS_PORT:-55450}" CITUS_CLUSTER=citus-bench
    say "Starting the Citus cluster on ports $CITUS_PORT-$((CITUS_PORT + 2))"
    citus_started=true
    "$REPO_ROOT/scripts/citus_cluster.sh" start user_metrics_bench
    citus_args=(--citus-port "$CITUS_PORT" --citus-cluster "$CITUS_CLUSTER")
fi

run_as=()
is_root && run_as=(--run-as postgres)
"$REPO_ROOT/.venv/bin/python" "$REPO_ROOT/bench/run.py" \
    --socket-dir "$bench_dir" --port "$BENCH_PORT" --data-dir "$bench_dir/data" \
    --pg-bindir "$(pg_bindir)" "${run_as[@]}" "${citus_args[@]}" "$@"
