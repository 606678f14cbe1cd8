#!/usr/bin/env bash
# Where planning a statement with its arrays' values starts to pay
# (PLAN_WITH_VALUES_FROM in src/sql/run.rs): builds the extension twice, once
# planning every statement over arrays with its values and once never, and
# measures ingest_metrics at several batch sizes with each (bench/plan_crossover.py),
# on a throwaway cluster of its own (port BENCH_PORT, 55434 by default). Prints
# events/s per batch size for both; the crossover is where they meet. Reinstalls
# the normal build at the end. Not part of the test command.
#
#   bench/plan_crossover.sh [--sizes 25,50,100,200,400,1000] [--events 20000] [--runs 3]
source "$(dirname "$0")/../scripts/common.sh"

BENCH_PORT="${BENCH_PORT:-55434}"
cluster="$(cluster_name bench)"
socket_dir="$USER_METRICS_RUN_DIR/$cluster"
dsn="host=$socket_dir port=$BENCH_PORT user=postgres dbname=user_metrics_crossover"

"$REPO_ROOT/scripts/install.sh" --python
"$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$BENCH_PORT"
cd "$REPO_ROOT"

# $1: PLAN_WITH_VALUES_FROM for the build; the rest go to plan_crossover.py.
measure() {
    local plan_with_values_from="$1"
    shift
    # shellcheck disable=SC2046
    USER_METRICS_PLAN_WITH_VALUES_FROM="$plan_with_values_from" cargo pgrx install --release $(pgrx_install_flags) >&2
    "$(pg_bindir)/psql" -X -q -h "$socket_dir" -p "$BENCH_PORT" -U postgres -d postgres \
        -c "DROP DATABASE IF EXISTS user_metrics_crossover WITH (FORCE)" \
        -c "CREATE DATABASE user_metrics_crossover"
    "$(pg_bindir)/psql" -X -q -h "$socket_dir" -p "$BENCH_PORT" -U postgres -d user_metrics_crossover \
        -c "CREATE EXTENSION user_metrics"
    "$REPO_ROOT/.venv/bin/python" "$REPO_ROOT/bench/plan_crossover.py" "$dsn" "$@"
}

say "Always planned with the arrays' values"
with_values="$(measure 0 "$@")"
say "Never: the generic plans"
generic="$(measure 1000000000 "$@")"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags) >&2

"$REPO_ROOT/.venv/bin/python" - "$with_values" "$generic" <<'EOF'
import json, sys
with_values, generic = (json.loads(a) for a in sys.argv[1:])
print(f"{'events per call':>16}{'with values':>14}{'generic':>10}  events/s")
for size in with_values:
    print(f"{size:>16}{with_values[size]:>14}{generic[size]:>10}")
EOF
