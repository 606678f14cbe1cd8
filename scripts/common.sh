# Shared settings and helpers for the scripts in this folder. Source it; do not run it.
# Everything here can be overridden from the environment.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_MAJOR="${PG_MAJOR:-15}"
PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config}"
CARGO_PGRX_VERSION="0.18.1"
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

# Makes a directory owned by the user the servers run as.
make_pg_dir() {
    as_root install -d -m 0700 -o "$(pg_os_user)" "$1"
}

# `cargo pgrx install` writes into PostgreSQL's own directories.
pgrx_install_flags() {
    if is_root; then echo "--pg-config $PG_CONFIG"; else echo "--sudo --pg-config $PG_CONFIG"; fi
}
