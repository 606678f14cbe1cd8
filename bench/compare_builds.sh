#!/usr/bin/env bash
# One event per call, this tree's library against the library of BASE, a commit
# of the same version with the same SQL functions, side by side on one throwaway
# cluster (port BENCH_PORT, 55439 by default), with the seed's three statements
# beside them:
#   head  this tree, installed as cargo pgrx install does;
#   base  the same install script, its functions pointed at BASE's library
#         (built from BASE and installed as user_metrics-base.so);
#   seed  bench/seed_per_event.sql into the seed's own tables.
# Each round runs pgbench (-M prepared, CLIENTS clients, SECONDS_PER_RUN seconds,
# SCRIPT: bench/one_event_per_call.sql by default) on the three in turn, each
# from empty tables, and prints calls/s. With another SCRIPT (such as
# bench/batch_per_call.sql, whose sessions hold PER_SESSION events each) the seed
# is left out: its three statements store one event. Not part of the test command.
#
#   bench/compare_builds.sh BASE
#   ROUNDS=5 SECONDS_PER_RUN=30 CLIENTS=16 bench/compare_builds.sh cf6f76a
#   SCRIPT=bench/batch_per_call.sql PER_SESSION=20 CLIENTS=1 bench/compare_builds.sh cf6f76a
source "$(dirname "$0")/../scripts/common.sh"

base="${1:?usage: bench/compare_builds.sh BASE_COMMIT}"
BENCH_PORT="${BENCH_PORT:-55439}"
ROUNDS="${ROUNDS:-3}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-15}"
CLIENTS="${CLIENTS:-8}"
SCRIPT="${SCRIPT:-bench/one_event_per_call.sql}"
PER_SESSION="${PER_SESSION:-1}"
cluster="$(cluster_name bench-builds)"
source "$REPO_ROOT/bench/pgbench_cluster.sh"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml" | head -1)"
libdir="$("$PG_CONFIG" --pkglibdir)"
work="$(mktemp -d)"
chmod 755 "$work"

as_root() { if is_root; then "$@"; else sudo "$@"; fi; }
cleanup() {
    "$REPO_ROOT/scripts/cluster.sh" remove "$cluster" || true
    git -C "$REPO_ROOT" worktree remove --force "$work/base" 2>/dev/null || true
    rm -rf "$work"
    as_root rm -f "$libdir/user_metrics-base.so"
}
trap cleanup EXIT

cd "$REPO_ROOT"
say "Building and installing user_metrics (release)"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags)

say "Building the library of $base"
git worktree add --detach "$work/base" "$base"
(cd "$work/base" && CARGO_TARGET_DIR="$work/target" \
    cargo build --release --lib --no-default-features --features "pg$PG_MAJOR")
as_root install -m 755 "$work/target/release/libuser_metrics.so" "$libdir/user_metrics-base.so"

start_bench_cluster
create_bench_databases head base seed
# The base database runs the same SQL on the other library: every C function of
# the extension is looked up in user_metrics-base.so instead.
moved=$(psql_bench -d base -At -v version="$version" <<'SQL'
UPDATE pg_proc SET probin = replace(probin, 'user_metrics-' || :'version', 'user_metrics-base')
WHERE probin LIKE '%user_metrics-' || :'version' RETURNING 1;
SQL
)
[ -n "$moved" ] || { echo "no function of user_metrics $version to point at the base library" >&2; exit 1; }
echo "base: $(echo "$moved" | wc -l) functions on user_metrics-base.so"

sed -e 's/:function(/user_metrics.ingest_metrics(/' \
    -e "s/^\\\\set per_session .*/\\\\set per_session $PER_SESSION/" "$SCRIPT" >"$work/calls.sql"
cp bench/seed_per_event.sql "$work/seed.sql"
chmod 644 "$work/calls.sql" "$work/seed.sql"
sides="base head seed"
[ "$SCRIPT" = bench/one_event_per_call.sql ] || sides="base head"

say "pgbench, $SCRIPT, $CLIENTS clients, $SECONDS_PER_RUN s, $ROUNDS rounds (calls/s; seed: transactions/s)"
for round in $(seq "$ROUNDS"); do
    line="round $round"
    for db in $sides; do
        script="$work/calls.sql"
        [ "$db" = seed ] && script="$work/seed.sql"
        line="$line   $db $(pgbench_tps "$db" "$script")"
    done
    echo "$line"
done
