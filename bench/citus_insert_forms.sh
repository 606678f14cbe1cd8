#!/usr/bin/env bash
# The forms of a call's inserts on Citus, side by side
# (bench/citus_insert_forms.py): a throwaway Citus cluster of a coordinator and
# two workers on this machine (scripts/citus_cluster.sh, ports CITUS_PORT to
# CITUS_PORT + 2, 55460 by default), a database per shard count of SHARDS
# (32,4 by default) distributed with user_metrics.distribute(N), then removed.
# PostgreSQL 15 only. Not part of the test command.
#
#   bench/citus_insert_forms.sh
#   SHARDS=32,8,4 bench/citus_insert_forms.sh --batch 100
source "$(dirname "$0")/../scripts/common.sh"

export CITUS_PORT="${CITUS_PORT:-55460}" CITUS_CLUSTER=citus-forms
SHARDS="${SHARDS:-32,4}"
cleanup() { "$REPO_ROOT/scripts/citus_cluster.sh" remove || true; }
trap cleanup EXIT

cd "$REPO_ROOT"
"$REPO_ROOT/scripts/install.sh" --python
"$REPO_ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$REPO_ROOT/bench/requirements.txt"
say "Building and installing user_metrics (release)"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags)

say "Starting a throwaway Citus cluster on ports $CITUS_PORT-$((CITUS_PORT + 2))"
"$REPO_ROOT/scripts/citus_cluster.sh" remove
"$REPO_ROOT/scripts/citus_cluster.sh" start
node_psql() { # node port, then psql arguments
    local name=$1 port=$2
    shift 2
    "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$USER_METRICS_RUN_DIR/$CITUS_CLUSTER-$name" -p "$port" \
        -U postgres "$@"
}
nodes=("coordinator:$CITUS_PORT" "worker1:$((CITUS_PORT + 1))" "worker2:$((CITUS_PORT + 2))")
IFS=, read -r -a counts <<<"$SHARDS"
for shards in "${counts[@]}"; do
    db="forms_${shards}_shards"
    for node in "${nodes[@]}"; do
        node_psql "${node%%:*}" "${node##*:}" -d postgres -c "CREATE DATABASE $db"
        node_psql "${node%%:*}" "${node##*:}" -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus"
    done
    node_psql coordinator "$CITUS_PORT" -d "$db" -c "SET client_min_messages = warning" \
        -c "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_PORT)" \
        -c "SELECT citus_add_node('127.0.0.1', $((CITUS_PORT + 1)))" \
        -c "SELECT citus_add_node('127.0.0.1', $((CITUS_PORT + 2)))" \
        -c "CREATE EXTENSION user_metrics" -c "SELECT user_metrics.distribute($shards)" >/dev/null
done

say "Inserts of a batch on Citus: arrays (unnest) against a multi-row VALUES"
"$REPO_ROOT/.venv/bin/python" bench/citus_insert_forms.py --shards "$SHARDS" \
    --dsn "host=$USER_METRICS_RUN_DIR/$CITUS_CLUSTER-coordinator port=$CITUS_PORT user=postgres" "$@"
