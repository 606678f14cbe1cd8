#!/usr/bin/env bash
# Every check and test suite, from a fresh machine: installs what is missing, then
#   1. cargo fmt --check and cargo clippy -D warnings (pg15);
#   2. the event contract's unit tests (plain cargo test), and fuzzing it for a
#      bounded time (CONTRACT_FUZZ_SECONDS, 60 by default);
#   3. the #[pg_test] tests inside PostgreSQL (cargo pgrx test);
#   4. the pg_regress suite of the public surface, then the isolation suite of
#      concurrent calls (pg_isolation_regress);
#   5. the client tests over real psycopg connections (ingestion, concurrency,
#      crashes, hostile input, roles, upgrades, Docker files, the Debian package).
# Steps 4 and 5 use the release build, installed from the Debian package it builds.
# 4 and 5 run against a throwaway cluster of our own, started fresh and stopped at the end.
source "$(dirname "$0")/common.sh"

TEST_PORT="${TEST_PORT:-55433}"
test_dir="$USER_METRICS_RUN_DIR/test"
started=$SECONDS

"$REPO_ROOT/scripts/install.sh" --python
cd "$REPO_ROOT"

say "Formatting and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --features "user_metrics/pg$PG_MAJOR" -- -D warnings

say "Event contract unit tests"
cargo test -p user_metrics_contract --test rules --test batch

say "Fuzzing the event contract for ${CONTRACT_FUZZ_SECONDS:-60} s"
CONTRACT_FUZZ_SECONDS="${CONTRACT_FUZZ_SECONDS:-60}" \
    cargo test -p user_metrics_contract --release --test fuzz -- --nocapture

say "Tests inside PostgreSQL (cargo pgrx test)"
pgrx_data="$USER_METRICS_RUN_DIR/pgrx-test"
as_root install -d -m 0755 "$USER_METRICS_RUN_DIR"
make_pg_dir "$pgrx_data"
cargo pgrx test "pg$PG_MAJOR" --runas "$(pg_os_user)" --pgdata "$pgrx_data"

say "Building the Debian package and installing it into PostgreSQL $PG_MAJOR"
deb="$("$REPO_ROOT/scripts/package_deb.sh")"
as_root dpkg -i "$deb"

# Released install scripts, so that the upgrade test can install old versions.
as_root install -m 0644 "$REPO_ROOT"/sql/releases/user_metrics--*.sql "$("$PG_CONFIG" --sharedir)/extension/"

say "Starting a fresh throwaway cluster on port $TEST_PORT"
"$REPO_ROOT/scripts/cluster.sh" remove test
"$REPO_ROOT/scripts/cluster.sh" start test "$TEST_PORT"
trap '"$REPO_ROOT/scripts/cluster.sh" stop test' EXIT

say "pg_regress suite (tests/pg_regress)"
"$REPO_ROOT/scripts/regress.sh" --port "$TEST_PORT" --socket-dir "$test_dir"

say "Isolation suite (tests/isolation)"
"$REPO_ROOT/scripts/isolation.sh" --port "$TEST_PORT" --socket-dir "$test_dir"

say "Client tests over real connections (tests/client)"
USER_METRICS_TEST_DSN="host=$test_dir port=$TEST_PORT user=postgres dbname=postgres" \
USER_METRICS_TEST_LOG="$test_dir/postgres.log" \
USER_METRICS_TEST_CLUSTER=test USER_METRICS_TEST_PORT="$TEST_PORT" USER_METRICS_TEST_DEB="$deb" \
    "$REPO_ROOT/.venv/bin/python" -m pytest -q "$REPO_ROOT/tests/client"

say "All checks passed in $((SECONDS - started)) s"
