# Shared settings and helpers for the scripts in this folder. Source it; do not run it.
# Everything here can be overridden from the environment.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The PostgreSQL major versions the test command builds and tests against.
TESTED_PG_MAJORS=(15 18)

# Where a PostgreSQL major version lives when PG_CONFIG does not say: Debian's
# layout (/usr/lib/postgresql/N) for 15, which Debian 12 packages, and for any
# version whose server is installed that way (e.g. from the PostgreSQL apt
# repository); otherwise /opt/postgresql/N, where install.sh builds it from source.
default_pg_config() {
    if [ "$1" = 15 ] || [ -d "/usr/lib/postgresql/$1/bin" ]; then
        echo "/usr/lib/postgresql/$1/bin/pg_config"
    else
        echo "/opt/postgresql/$1/bin/pg_config"
    fi
}

# The major version of a pg_config: "PostgreSQL 18.6" and "PostgreSQL 15.20 (Debian ...)".
pg_config_major() {
    "$1" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'
}

# PG_MAJOR and PG_CONFIG choose the PostgreSQL every script builds for, runs and
# tests against; either one is enough. They are exported so that the scripts
# called from here (and the client tests) use the same PostgreSQL.
if [ -z "${PG_MAJOR:-}" ] && [ -n "${PG_CONFIG:-}" ]; then
    if [ -x "$PG_CONFIG" ]; then
        PG_MAJOR="$(pg_config_major "$PG_CONFIG")"
    elif [[ "$PG_CONFIG" =~ /postgresql/([0-9]+)/bin/pg_config$ ]]; then
        # Not installed yet (install.sh builds it): the version is in the path.
        PG_MAJOR="${BASH_REMATCH[1]}"
    fi
fi
PG_MAJOR="${PG_MAJOR:-15}"
PG_CONFIG="${PG_CONFIG:-$(default_pg_config "$PG_MAJOR")}"
if [ -x "$PG_CONFIG" ] && [ "$(pg_config_major "$PG_CONFIG")" != "$PG_MAJOR" ]; then
    echo "PG_MAJOR=$PG_MAJOR but $PG_CONFIG is PostgreSQL $(pg_config_major "$PG_CONFIG"): set only one of them" >&2
    exit 2
fi
export PG_MAJOR PG_CONFIG
CARGO_PGRX_VERSION="0.18.1"
# The releases whose libraries the tests use, each built from the commit its tag
# (v<version>) names by scripts/previous_release.sh. The last is the previous
# release: this version's Debian package holds its library beside this version's,
# so that its databases keep working until their ALTER EXTENSION UPDATE. 0.2.0's is
# there for the upgrade tests from 0.1.0 and 0.2.0 (it serves both).
RELEASE_COMMITS=(
    "0.2.0 01dae3afe8d4b7ee67c759ceab89b849032ec350"
    "0.3.0 6cd02d17495959b63b4acb0ba8107eca34e041c7"
)
PREVIOUS_RELEASE_VERSION="0.3.0"

# The commit of release $1, from RELEASE_COMMITS.
release_commit() {
    local entry
    for entry in "${RELEASE_COMMITS[@]}"; do
        if [ "${entry%% *}" = "$1" ]; then echo "${entry#* }"; return; fi
    done
    echo "no commit is known for release $1 (RELEASE_COMMITS in scripts/common.sh)" >&2
    return 1
}

# The file name of release $1's library: one library for every version up to 0.2.0
# (user_metrics.so), one per version from 0.3.0 on (user_metrics-<version>.so).
release_library() {
    case "$1" in
    0.1.0 | 0.2.0) echo "user_metrics.so" ;;
    *) echo "user_metrics-$1.so" ;;
    esac
}
# Throwaway clusters live here, one folder each, away from any real server.
USER_METRICS_RUN_DIR="${USER_METRICS_RUN_DIR:-/var/tmp/user_metrics}"

export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if is_root; then "$@"; else sudo "$@"; fi
}

# PostgreSQL refuses to run as root, so as root the servers run as the
# `postgres` user that Debian's packages create; anyone else runs them as themselves.
pg_os_user() {
    if is_root; then echo postgres; else id -un; fi
}

as_pg_user() {
    if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bindir() { "$PG_CONFIG" --bindir; }

# pg_regress as PGXS installs it, under pgxs/ beside pgxs.mk's folder. Found from
# `pg_config --pgxs` because pgxs/ sits elsewhere in Debian's layout
# (/usr/lib/postgresql/15/lib/pgxs) and in a source build's (/opt/postgresql/18/lib/pgxs).
pg_regress_path() {
    local makefiles
    makefiles="$(dirname "$("$PG_CONFIG" --pgxs)")"
    echo "$(dirname "$makefiles")/test/regress/pg_regress"
}

# The folder of a throwaway cluster under $USER_METRICS_RUN_DIR. Those of
# PostgreSQL 15 keep the plain name (demo, test); other versions get their own
# (demo-pg18, test-pg18), since a data directory belongs to one major version.
cluster_name() {
    if [ "$PG_MAJOR" = 15 ]; then echo "$1"; else echo "$1-pg$PG_MAJOR"; fi
}

# Makes a directory owned by the user the servers run as.
make_pg_dir() {
    as_root install -d -m 0700 -o "$(pg_os_user)" "$1"
}

# Whether PG_CONFIG is that of Debian's packages (postgresql-N, postgresql-server-dev-N).
is_debian_layout() {
    [ "$PG_CONFIG" = "/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" ]
}

# `cargo pgrx install` writes into PostgreSQL's own directories.
pgrx_install_flags() {
    if is_root; then echo "--pg-config $PG_CONFIG"; else echo "--sudo --pg-config $PG_CONFIG"; fi
}

# The arguments of the suite runners (regress.sh, isolation.sh):
# --port N --socket-dir DIR [--update]. Sets port, socket_dir and update.
parse_suite_arguments() {
    port="" socket_dir="" update=false
    while [ $# -gt 0 ]; do
        case "$1" in
        --port) port="$2"; shift 2 ;;
        --socket-dir) socket_dir="$2"; shift 2 ;;
        --update) update=true; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
        esac
    done
    [ -n "$port" ] && [ -n "$socket_dir" ] || { echo "--port and --socket-dir are required" >&2; exit 2; }
}

# A new, empty database named $1 on the cluster of $port and $socket_dir, for a suite.
fresh_suite_database() {
    "$(pg_bindir)/psql" --no-psqlrc -q -h "$socket_dir" -p "$port" -U postgres -d postgres \
        -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}
