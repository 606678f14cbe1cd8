#!/usr/bin/env bash
# A throwaway PostgreSQL cluster of our own: its own data directory, port and
# socket directory under $USER_METRICS_RUN_DIR, so nothing of an existing server
# is touched. Local connections are trusted and only the owner can reach the socket.
# The server is the PostgreSQL of PG_MAJOR / PG_CONFIG (scripts/common.sh); a
# cluster belongs to the major version that created it.
#
#   cluster.sh start NAME PORT     create (first time) and start
#   cluster.sh standby NAME PORT PRIMARY PRIMARY_PORT
#                                  create (first time) a hot standby of the running
#                                  cluster PRIMARY (a base backup streaming from it),
#                                  and start it
#   cluster.sh stop NAME           stop (fast shutdown)
#   cluster.sh crash NAME          stop at once, as a crash would (immediate shutdown)
#   cluster.sh remove NAME         stop and delete
#
# WAL_LEVEL (default replica) is written into a new cluster's settings; logical
# lets it publish tables for logical replication.
source "$(dirname "$0")/common.sh"

command="${1:?usage: cluster.sh start|standby|stop|crash|remove NAME [PORT [PRIMARY PRIMARY_PORT]]}"
name="${2:?cluster name missing}"
dir="$USER_METRICS_RUN_DIR/$name"
data="$dir/data"
bindir="$(pg_bindir)"

if [ -f "$data/PG_VERSION" ] && [ "$(cat "$data/PG_VERSION")" != "$PG_MAJOR" ]; then
    echo "cluster $name ($data) is a PostgreSQL $(cat "$data/PG_VERSION") cluster, not $PG_MAJOR:" \
        "use PG_MAJOR=$(cat "$data/PG_VERSION") with it, also to stop or remove it" >&2
    exit 2
fi
# The settings that make a cluster ours: port, socket, log format. Appended last,
# so for a standby they replace those copied from its primary.
write_settings() {
    cat <<CONF | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
# throwaway cluster for user_metrics
port = $1
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

start_server() {
    if ! as_pg_user "$bindir/pg_ctl" --pgdata="$data" status >/dev/null 2>&1; then
        # The server's environment: no RUST_BACKTRACE, whatever the caller has (with
        # it, every error would send the client a Rust backtrace).
        as_pg_user env -u RUST_BACKTRACE "$bindir/pg_ctl" --pgdata="$data" --log="$dir/postgres.log" \
            --wait start >/dev/null
    fi
}

case "$command" in
start)
    port="${3:?port missing}"
    as_root install -d -m 0755 "$USER_METRICS_RUN_DIR"
    make_pg_dir "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg_user "$bindir/initdb" --pgdata="$data" --username=postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
        write_settings "$port"
        echo "wal_level = ${WAL_LEVEL:-replica}" | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
    fi
    start_server
    ;;
standby)
    port="${3:?port missing}"
    primary="${4:?primary cluster name missing}"
    primary_port="${5:?primary port missing}"
    as_root install -d -m 0755 "$USER_METRICS_RUN_DIR"
    make_pg_dir "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        # -R writes standby.signal and the primary_conninfo to stream from.
        as_pg_user "$bindir/pg_basebackup" --pgdata="$data" --host="$USER_METRICS_RUN_DIR/$primary" \
            --port="$primary_port" --username=postgres --write-recovery-conf \
            --checkpoint=fast --wal-method=stream
        write_settings "$port"
    fi
    start_server
    ;;
stop)
    if [ -f "$data/postmaster.pid" ]; then
        as_pg_user "$bindir/pg_ctl" --pgdata="$data" --mode=fast --wait stop >/dev/null
    fi
    ;;
crash)
    as_pg_user "$bindir/pg_ctl" --pgdata="$data" --mode=immediate --wait stop >/dev/null
    ;;
remove)
    "$0" stop "$name"
    as_root rm -rf "$dir"
    ;;
*)
    echo "unknown command $command" >&2
    exit 2
    ;;
esac
