# Shared by the pgbench measurements of one event per call (check_constraints.sh,
# compare_builds.sh, one_event_parts.sh): a throwaway cluster with the
# benchmark's settings, its tables emptied between runs, and one pgbench run.
# Source it after scripts/common.sh, with BENCH_PORT, CLIENTS, SECONDS_PER_RUN
# and cluster set; it sets socket_dir.

socket_dir="$USER_METRICS_RUN_DIR/$cluster"

psql_bench() {
    "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$BENCH_PORT" -U postgres "$@"
}

# Starts the cluster afresh with the settings of bench.sh that matter here.
start_bench_cluster() {
    say "Starting a throwaway PostgreSQL $PG_MAJOR ($cluster, port $BENCH_PORT)"
    "$REPO_ROOT/scripts/cluster.sh" remove "$cluster"
    "$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$BENCH_PORT"
    psql_bench -d postgres -c "ALTER SYSTEM SET shared_buffers = '2GB'" \
        -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET checkpoint_timeout = '30min'"
    "$REPO_ROOT/scripts/cluster.sh" stop "$cluster"
    "$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$BENCH_PORT"
}

# Creates the databases named: the seed's tables in one named seed
# (bench/flask_reference/schema.sql), the extension in every other.
create_bench_databases() {
    local db
    for db in "$@"; do
        psql_bench -d postgres -c "CREATE DATABASE $db"
        if [ "$db" = seed ]; then
            psql_bench -d seed -c "SET client_min_messages = warning" -f "$REPO_ROOT/bench/flask_reference/schema.sql"
        else
            psql_bench -d "$db" -c "SET client_min_messages = error" -c "CREATE EXTENSION user_metrics"
        fi
    done
}

# Empties the tables that database $1 writes: the seed's in a database named
# seed, the extension's in any other; then a checkpoint, so that no run pays for
# the one before.
empty_bench_tables() {
    if [ "$1" = seed ]; then
        psql_bench -d seed -c "TRUNCATE flask_ref.events, flask_ref.sessions, flask_ref.users" -c "CHECKPOINT"
    else
        psql_bench -d "$1" -c "TRUNCATE user_metrics.events, user_metrics.sessions, user_metrics.users, user_metrics.counters, user_metrics.ingest_counters" \
            -c "CHECKPOINT"
    fi
}

# One pgbench run of script $2 on database $1, from empty tables: prints its
# transactions per second.
pgbench_tps() {
    empty_bench_tables "$1"
    local tps
    tps=$(as_pg_user "$(pg_bindir)/pgbench" -n -M prepared -h "$socket_dir" -p "$BENCH_PORT" -U postgres \
        -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -f "$2" -D users=10000 "$1" |
        awk '/^tps =/ { if ($3 < 100) printf "%.2f", $3; else printf "%d", $3 }')
    [ -n "$tps" ] || { echo "pgbench failed: $2 on $1" >&2; return 1; }
    echo "$tps"
}
