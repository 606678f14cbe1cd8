#!/usr/bin/env bash
# user-metrics-http beside a throwaway cluster (scripts/cluster.sh), for the demo
# and the HTTP benchmark. Its files live in the cluster's folder, under http/:
# the token file, tokens.env (WRITER_TOKEN and READER_TOKEN, to `source`), the
# log and the pid.
#
#   http_server.sh start CLUSTER CLUSTER_PORT DATABASE HTTP_PORT
#       creates the login role user_metrics_http (NOINHERIT, granted
#       user_metrics_writer and user_metrics_reader) if missing, makes a writer and
#       a reader token, starts target/release/user-metrics-http (build it first:
#       cargo build --release -p user-metrics-http) and waits until /health answers
#   http_server.sh stop CLUSTER
#       SIGTERM, and waits until it has finished its requests and exited
#
# Extra settings of the server (USER_METRICS_HTTP_POOL_SIZE, ...) pass through
# from the environment; USER_METRICS_HTTP_BIN runs another build of the server
# (e.g. an earlier one, to compare).
source "$(dirname "$0")/common.sh"

command="${1:?usage: http_server.sh start CLUSTER CLUSTER_PORT DATABASE HTTP_PORT | stop CLUSTER}"
cluster="${2:?cluster name missing}"
socket_dir="$USER_METRICS_RUN_DIR/$cluster"
dir="$socket_dir/http"
binary="${USER_METRICS_HTTP_BIN:-$REPO_ROOT/target/release/user-metrics-http}"

stop() {
    local pid
    [ -f "$dir/pid" ] || return 0
    pid="$(cat "$dir/pid")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -f "$dir/pid"
}

case "$command" in
start)
    cluster_port="${3:?cluster port missing}"
    database="${4:?database missing}"
    http_port="${5:?HTTP port missing}"
    [ -x "$binary" ] || { echo "$binary is missing: cargo build --release -p user-metrics-http" >&2; exit 1; }
    stop
    mkdir -p "$dir"
    chmod 0700 "$dir"
    "$(pg_bindir)/psql" --no-psqlrc -q -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$cluster_port" -U postgres \
        -d "$database" <<'SQL'
SET client_min_messages = warning;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'user_metrics_http') THEN
        -- NOINHERIT: no rights of its own; its connections act as one of the roles.
        CREATE ROLE user_metrics_http LOGIN NOINHERIT;
    END IF;
END
$$;
GRANT user_metrics_writer, user_metrics_reader TO user_metrics_http;
SQL
    rm -f "$dir/tokens"
    writer="$("$binary" token user_metrics_writer "$dir/tokens")"
    reader="$("$binary" token user_metrics_reader "$dir/tokens")"
    (umask 077 && printf 'WRITER_TOKEN=%s\nREADER_TOKEN=%s\n' "$writer" "$reader" >"$dir/tokens.env")
    USER_METRICS_HTTP_DATABASE="host=$socket_dir port=$cluster_port dbname=$database user=user_metrics_http" \
    USER_METRICS_HTTP_TOKENS="$dir/tokens" \
    USER_METRICS_HTTP_LISTEN="${USER_METRICS_HTTP_LISTEN:-127.0.0.1:$http_port}" \
        nohup "$binary" >"$dir/log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    for _ in $(seq 100); do
        if curl -sf "http://127.0.0.1:$http_port/health" >/dev/null; then
            exit 0
        fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
        sleep 0.2
    done
    echo "user-metrics-http did not answer on port $http_port; its log ($dir/log):" >&2
    cat "$dir/log" >&2
    stop
    exit 1
    ;;
stop)
    stop
    ;;
*)
    echo "unknown command $command" >&2
    exit 2
    ;;
esac
