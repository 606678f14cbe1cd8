#!/usr/bin/env bash
# A throwaway Citus cluster of our own, PostgreSQL 15 only (Citus is built for it by
# install.sh): a coordinator and two workers, each with its data directory and
# socket under $USER_METRICS_RUN_DIR/citus-<node>, talking to each other over
# loopback TCP. Only 127.0.0.1 is listened on and trusted; the Unix sockets are
# trusted and only their owner can open them.
#
#   citus_cluster.sh start [DB]       create (first time) and start the three nodes,
#                                     create database DB (user_metrics_citus by
#                                     default) with CREATE EXTENSION citus on each,
#                                     and register the workers with the coordinator
#   citus_cluster.sh node NAME PORT [DB]
#                                     create and start one more node set up the same
#                                     way (DB with citus), not registered: for
#                                     citus_add_node
#   citus_cluster.sh stop             stop every node of the cluster (fast shutdown)
#   citus_cluster.sh remove           stop and delete every node
#   citus_cluster.sh stop-node NAME / remove-node NAME
#                                     the same for one node
#
# Ports: CITUS_PORT (55440) for the coordinator, the next two for the workers.
# CITUS_CLUSTER (citus) names the cluster: its nodes live in
# $USER_METRICS_RUN_DIR/$CITUS_CLUSTER-<node>.
source "$(dirname "$0")/common.sh"

if [ "$PG_MAJOR" != 15 ]; then
    echo "the Citus cluster is PostgreSQL 15 only (Citus 13.2.2 is built for it), not $PG_MAJOR" >&2
    exit 2
fi

CITUS_PORT="${CITUS_PORT:-55440}"
NODES=(coordinator:"$CITUS_PORT" worker1:"$((CITUS_PORT + 1))" worker2:"$((CITUS_PORT + 2))")
bindir="$(pg_bindir)"

CITUS_CLUSTER="${CITUS_CLUSTER:-citus}"
node_dir() { echo "$USER_METRICS_RUN_DIR/$CITUS_CLUSTER-$1"; }

# Creates (first time) and starts node $1 on port $2.
start_node() {
    local name="$1" port="$2" dir data
    dir="$(node_dir "$name")"
    data="$dir/data"
    as_root install -d -m 0755 "$USER_METRICS_RUN_DIR"
    make_pg_dir "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg_user "$bindir/initdb" --pgdata="$data" --username=postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
        # Nodes reach each other over TCP, so 127.0.0.1 is listened on; nothing
        # else is trusted (initdb's defaults also trust ::1, which is dropped).
        cat <<CONF | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
# throwaway Citus node for user_metrics
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
shared_preload_libraries = 'citus'
# Shard moves (rebalancing) copy shards by logical replication.
wal_level = logical
# Multi-shard writes commit with two-phase commit.
max_prepared_transactions = 100
CONF
        cat <<HBA | as_pg_user tee "$data/pg_hba.conf" >/dev/null
local all all trust
host  all all 127.0.0.1/32 trust
HBA
    fi
    if ! as_pg_user "$bindir/pg_ctl" --pgdata="$data" status >/dev/null 2>&1; then
        # The server's environment: no RUST_BACKTRACE, whatever the caller has.
        as_pg_user env -u RUST_BACKTRACE "$bindir/pg_ctl" --pgdata="$data" \
            --log="$dir/postgres.log" --wait start >/dev/null
    fi
}

stop_node() {
    local data
    data="$(node_dir "$1")/data"
    if [ -f "$data/postmaster.pid" ]; then
        as_pg_user "$bindir/pg_ctl" --pgdata="$data" --mode=fast --wait stop >/dev/null
    fi
}

remove_node() {
    stop_node "$1"
    as_root rm -rf "$(node_dir "$1")"
}

psql_node() {
    local name="$1" port="$2"
    shift 2
    "$bindir/psql" --no-psqlrc -q -v ON_ERROR_STOP=1 -h "$(node_dir "$name")" -p "$port" -U postgres "$@"
}

# Database $3 on node $1 (port $2), created if missing, with the citus extension.
node_database() {
    local name="$1" port="$2" db="$3"
    if [ -z "$(psql_node "$name" "$port" -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
        psql_node "$name" "$port" -d postgres -c "CREATE DATABASE $db"
    fi
    PGOPTIONS="-c client_min_messages=warning" \
        psql_node "$name" "$port" -d "$db" -c "CREATE EXTENSION IF NOT EXISTS citus"
}

command="${1:?usage: citus_cluster.sh start [DB] | node NAME PORT [DB] | stop | remove | stop-node NAME | remove-node NAME}"
case "$command" in
start)
    db="${2:-user_metrics_citus}"
    for node in "${NODES[@]}"; do
        start_node "${node%%:*}" "${node#*:}"
        node_database "${node%%:*}" "${node#*:}" "$db"
    done
    # The coordinator's own address, which the workers use to reach it, then the
    # workers; both are no-ops when already registered.
    psql_node coordinator "$CITUS_PORT" -d "$db" \
        -c "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_PORT)" >/dev/null
    for node in "${NODES[@]:1}"; do
        psql_node coordinator "$CITUS_PORT" -d "$db" \
            -c "SELECT citus_add_node('127.0.0.1', ${node#*:})" >/dev/null
    done
    ;;
node)
    name="${2:?node name missing}"
    port="${3:?port missing}"
    start_node "$name" "$port"
    node_database "$name" "$port" "${4:-user_metrics_citus}"
    ;;
stop)
    for node in "${NODES[@]}"; do stop_node "${node%%:*}"; done
    ;;
remove)
    for node in "${NODES[@]}"; do remove_node "${node%%:*}"; done
    ;;
stop-node)
    stop_node "${2:?node name missing}"
    ;;
remove-node)
    remove_node "${2:?node name missing}"
    ;;
*)
    echo "unknown command $command" >&2
    exit 2
    ;;
esac
