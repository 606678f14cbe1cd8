#!/usr/bin/env bash
# Every check and test suite, from a fresh machine: installs what is missing
# (PostgreSQL 15 from Debian, PostgreSQL 18 built from source), then
#   1. cargo fmt --check and cargo clippy -D warnings (pg15);
#   2. the event contract's unit tests (plain cargo test), and fuzzing it for a
#      bounded time (CONTRACT_FUZZ_SECONDS, 60 by default);
#   3. the #[pg_test] tests inside PostgreSQL (cargo pgrx test), on 15 and on 18;
#   4. on PostgreSQL 15: the release build, installed from the Debian package it
#      builds (which holds the previous release's library too, built from its
#      commit by previous_release.sh; the previous release's own package is built
#      for the upgrade tests under load, which install it then this one's; 0.2.0's
#      library is installed beside them for the upgrade tests from 0.1.0 and
#      0.2.0), on a throwaway cluster (test, port 55433): the pg_regress suite, the
#      isolation suite of concurrent calls (pg_isolation_regress), then
#      every client test over real psycopg connections (ingestion, concurrency,
#      crashes, hostile input, roles, upgrades, and the Docker files and Debian
#      package, which are made for PostgreSQL 15); then the four driver
#      examples (examples/: Node.js, Java, Rust, Python) on a cluster of their
#      own (examples, port 25437), checked by scripts/examples.sh; then
#      user-metrics-http (release build) over real HTTP against the test cluster
#      (tests/http), its servers on HTTP_TEST_PORT (25605) and the seven ports
#      after it, with the dashboard in Debian's chromium (Playwright) and
#      ./scripts/demo.sh run as written (its own cluster and server);
#   5. on PostgreSQL 18: the release build, installed with cargo pgrx install
#      (and the releases' libraries beside it), on a throwaway cluster (test-pg18,
#      port 55435): the same pg_regress and isolation suites and the same client
#      tests except those marked `packaging`, and those marked `major_upgrade` (a
#      database moved from 15 to 18 by dump and restore) and `source_install` (the
#      previous release installed from its tag with cargo pgrx install, then this
#      version, and the update).
# The clusters are started fresh and stopped at the end.
source "$(dirname "$0")/common.sh"

TEST_PORT="${TEST_PORT:-55433}"
TEST_PORT_PG18="${TEST_PORT_PG18:-55435}"
# The servers that listen on TCP (user-metrics-http, the examples' cluster, the
# Citus nodes) take ports below Linux's range for outgoing connections
# (32768-60999): the tests open thousands of loopback connections, and a listener
# cannot bind a port that one of them still holds, even in TIME_WAIT. The other
# clusters listen on Unix sockets only.
HTTP_TEST_PORT="${HTTP_TEST_PORT:-25605}"
EXAMPLES_PORT="${EXAMPLES_PORT:-25437}"
CITUS_PORT="${CITUS_PORT:-25440}"
export CITUS_PORT
started=$SECONDS

step() { say "[$((SECONDS - started)) s] $*"; }

# Runs a command against PostgreSQL major version $1, as the scripts choose it.
on_pg() {
    local major="$1"
    shift
    PG_MAJOR="$major" PG_CONFIG="$(default_pg_config "$major")" "$@"
}

"$REPO_ROOT/scripts/install.sh" --python --examples
for major in "${TESTED_PG_MAJORS[@]}"; do
    on_pg "$major" "$REPO_ROOT/scripts/install.sh"
done
cd "$REPO_ROOT"

step "Formatting and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --features "user_metrics/pg15,user_metrics_contract/generate" -- -D warnings

step "Event contract unit tests"
cargo test -p user_metrics_contract --lib --test rules --test batch

step "Fuzzing the event contract for ${CONTRACT_FUZZ_SECONDS:-60} s"
CONTRACT_FUZZ_SECONDS="${CONTRACT_FUZZ_SECONDS:-60}" \
    cargo test -p user_metrics_contract --release --features generate --test fuzz -- --nocapture

step "user-metrics-http: unit tests and the release build"
cargo test -p user-metrics-http
cargo build --release -p user-metrics-http

as_root install -d -m 0755 "$USER_METRICS_RUN_DIR"
for major in "${TESTED_PG_MAJORS[@]}"; do
    step "Tests inside PostgreSQL $major (cargo pgrx test pg$major)"
    pgrx_data="$USER_METRICS_RUN_DIR/pgrx-test-pg$major"
    make_pg_dir "$pgrx_data"
    cargo pgrx test "pg$major" --runas "$(pg_os_user)" --pgdata "$pgrx_data"
done

# Stops the throwaway clusters still running when the script ends, however it ends.
running_clusters=()
citus_running=false
stop_clusters() {
    local entry
    for entry in "${running_clusters[@]}"; do
        on_pg "${entry%%:*}" "$REPO_ROOT/scripts/cluster.sh" stop "${entry#*:}" || true
    done
    if $citus_running; then
        on_pg 15 "$REPO_ROOT/scripts/citus_cluster.sh" stop || true
    fi
}
trap stop_clusters EXIT

# The pg_regress suite and the client tests against the release build already
# installed into PostgreSQL $PG_MAJOR, on a fresh cluster; extra arguments go to pytest.
suites_on_installed_build() {
    local port="$1" cluster socket_dir
    shift
    cluster="$(cluster_name test)"
    socket_dir="$USER_METRICS_RUN_DIR/$cluster"

    # Released install scripts and their secondary control files, so that the
    # upgrade test can install old versions.
    as_root install -m 0644 "$REPO_ROOT"/sql/releases/user_metrics--*.sql \
        "$REPO_ROOT"/sql/releases/user_metrics--*.control "$("$PG_CONFIG" --sharedir)/extension/"

    step "Starting a fresh throwaway PostgreSQL $PG_MAJOR cluster ($cluster) on port $port"
    "$REPO_ROOT/scripts/cluster.sh" remove "$cluster"
    # wal_level=logical: the cut-over test publishes tables from it.
    WAL_LEVEL=logical "$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$port"
    running_clusters+=("$PG_MAJOR:$cluster")

    step "pg_regress suite (tests/pg_regress) on PostgreSQL $PG_MAJOR"
    "$REPO_ROOT/scripts/regress.sh" --port "$port" --socket-dir "$socket_dir"

    step "Isolation suite (tests/isolation) on PostgreSQL $PG_MAJOR"
    "$REPO_ROOT/scripts/isolation.sh" --port "$port" --socket-dir "$socket_dir"

    step "Client tests over real connections (tests/client) on PostgreSQL $PG_MAJOR"
    USER_METRICS_TEST_DSN="host=$socket_dir port=$port user=postgres dbname=postgres" \
    USER_METRICS_TEST_LOG="$socket_dir/postgres.log" \
    USER_METRICS_TEST_CLUSTER="$cluster" USER_METRICS_TEST_PORT="$port" \
        "$REPO_ROOT/.venv/bin/python" -m pytest -q "$REPO_ROOT/tests/client" "$@"

    "$REPO_ROOT/scripts/cluster.sh" stop "$cluster"
}

# The libraries of the releases the upgrade tests start from (RELEASE_COMMITS),
# beside this version's: the previous release's, which the Debian package holds
# too and which databases at that version use until their update, and 0.2.0's,
# which the released scripts of 0.1.0 and 0.2.0 name.
install_release_libraries() {
    local entry version staged libdir
    libdir="$("$PG_CONFIG" --pkglibdir)"
    for entry in "${RELEASE_COMMITS[@]}"; do
        version="${entry%% *}"
        staged="$("$REPO_ROOT/scripts/previous_release.sh" "$version")"
        as_root install -m 0755 "$staged$libdir/$(release_library "$version")" "$libdir/"
    done
}

# This version's library, then the releases' beside it.
install_release_build() {
    # shellcheck disable=SC2046
    cargo pgrx install --release $(pgrx_install_flags)
    install_release_libraries
}

# The Citus tier on PostgreSQL 15 (Citus is built for it): user_metrics distributed
# over a throwaway Citus cluster (scripts/citus_cluster.sh: coordinator and two
# workers on ports CITUS_PORT to CITUS_PORT + 2, a fourth node on CITUS_PORT + 6
# for the scaling test) against the same data on the single-node test cluster.
citus_tier() {
    local socket_dir="$USER_METRICS_RUN_DIR/test"
    step "Citus tier (tests/citus) on PostgreSQL 15: a coordinator and two workers (ports $CITUS_PORT-$((CITUS_PORT + 2)))"
    "$REPO_ROOT/scripts/cluster.sh" start test "$TEST_PORT"
    running_clusters+=("15:test")
    "$REPO_ROOT/scripts/citus_cluster.sh" remove
    citus_running=true
    "$REPO_ROOT/scripts/citus_cluster.sh" start
    USER_METRICS_TEST_DSN="host=$socket_dir port=$TEST_PORT user=postgres dbname=postgres" \
    USER_METRICS_CITUS_PORT="$CITUS_PORT" \
        "$REPO_ROOT/.venv/bin/python" -m pytest -q "$REPO_ROOT/tests/citus"
    "$REPO_ROOT/scripts/citus_cluster.sh" remove
    citus_running=false
    "$REPO_ROOT/scripts/cluster.sh" stop test
}

# user-metrics-http over real HTTP (tests/http), on PostgreSQL 15's test cluster:
# the release binary, started by the tests with tokens and a login role of their own.
http_tier() {
    local socket_dir="$USER_METRICS_RUN_DIR/test"
    step "HTTP tests (tests/http) on PostgreSQL 15: user-metrics-http on ports $HTTP_TEST_PORT-$((HTTP_TEST_PORT + 7))"
    "$REPO_ROOT/scripts/cluster.sh" start test "$TEST_PORT"
    running_clusters+=("15:test")
    USER_METRICS_TEST_DSN="host=$socket_dir port=$TEST_PORT user=postgres dbname=postgres" \
    USER_METRICS_HTTP_TEST_PORT="$HTTP_TEST_PORT" \
    USER_METRICS_HTTP_BIN="$REPO_ROOT/target/release/user-metrics-http" \
        "$REPO_ROOT/.venv/bin/python" -m pytest -q "$REPO_ROOT/tests/http"
    "$REPO_ROOT/scripts/cluster.sh" stop test
}

step "PostgreSQL 15: building the Debian package and installing it"
# The previous release's package too: the upgrade tests under load start from it.
USER_METRICS_TEST_PREVIOUS_DEB="$(on_pg 15 "$REPO_ROOT/scripts/package_deb.sh" --previous-release)"
USER_METRICS_TEST_DEB="$(on_pg 15 "$REPO_ROOT/scripts/package_deb.sh")"
export USER_METRICS_TEST_DEB USER_METRICS_TEST_PREVIOUS_DEB
as_root dpkg -i "$USER_METRICS_TEST_DEB"
on_pg 15 install_release_libraries
# The move to a new major version (marked major_upgrade) and the update of a
# source install (source_install) run once, on 18, below.
on_pg 15 suites_on_installed_build "$TEST_PORT" -m "not major_upgrade and not source_install"
step "Driver examples (examples/) on PostgreSQL 15, port $EXAMPLES_PORT"
as_root dpkg -i "$USER_METRICS_TEST_DEB"
on_pg 15 "$REPO_ROOT/scripts/examples.sh" "$EXAMPLES_PORT"
on_pg 15 http_tier
on_pg 15 citus_tier
# The tests marked `packaging` install packages into PostgreSQL 15 only.
unset USER_METRICS_TEST_DEB USER_METRICS_TEST_PREVIOUS_DEB

# The Debian package and the Docker image are made for PostgreSQL 15 only: their
# tests (marked `packaging`) run above and are left out here.
step "PostgreSQL 18: building the release build and installing it with cargo pgrx install"
on_pg 18 install_release_build
# PostgreSQL 15 still has this version installed (its package): the client test
# marked major_upgrade moves a database from 15 to 18 by dump and restore.
USER_METRICS_UPGRADE_FROM_PG_CONFIG="$(default_pg_config 15)" \
    on_pg 18 suites_on_installed_build "$TEST_PORT_PG18" -m "not packaging"

step "All checks passed in $((SECONDS - started)) s, on PostgreSQL ${TESTED_PG_MAJORS[*]}"
