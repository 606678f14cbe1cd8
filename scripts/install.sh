#!/usr/bin/env bash
# Installs what building and testing user_metrics needs for one PostgreSQL major
# version (PG_MAJOR or PG_CONFIG, 15 by default), skipping whatever is already
# there, so it is safe to run again:
#   - Debian packages: clang/libclang (for pgrx's bindgen), pkg-config, sudo, curl
#     (the demo and the HTTP tests call user-metrics-http with it), Node.js and
#     npm (unless there already); for Debian's layout, the PostgreSQL server and
#     headers (postgresql-N, postgresql-server-dev-N);
#   - the dashboard's chart library, uPlot, from npm into http/dashboard/node_modules
#     (`npm ci`, from the lock file), which building user-metrics-http embeds;
#   - PostgreSQL 18 built from source into /opt/postgresql/18, when that is the
#     PostgreSQL asked for and it is not there yet (Debian 12 has no package of it);
#   - for PostgreSQL 15: Citus 13.2.2 built from source (../shared/citus/build.sh),
#     for the scale-out tests, when it is not installed yet;
#   - cargo-pgrx 0.18.1 (the version the pgrx dependency is pinned to);
#   - `cargo pgrx init` for this version, keeping the versions already set up
#     (downloads nothing);
#   - with --python: a virtualenv in .venv with the client-test dependencies, and
#     Debian's chromium for the dashboard's browser test (Playwright drives it);
#   - with --examples: what the driver examples (examples/, scripts/examples.sh)
#     need besides: a JDK and the PostgreSQL JDBC driver from Debian, and the
#     virtualenv of --python (psycopg); Rust and Node.js are there already.
#
#   ./scripts/install.sh                                             PostgreSQL 15 from Debian
#   PG_CONFIG=/opt/postgresql/18/bin/pg_config ./scripts/install.sh  PostgreSQL 18
#   PG_CONFIG=/path/to/pg_config ./scripts/install.sh                a PostgreSQL of your own
#   ./scripts/install.sh --python --examples                         and the tests' tools
source "$(dirname "$0")/common.sh"

with_python=false
with_examples=false
for argument in "$@"; do
    case "$argument" in
    --python) with_python=true ;;
    --examples) with_examples=true with_python=true ;;
    *) echo "unknown argument $argument (expected --python, --examples)" >&2; exit 2 ;;
    esac
done

if ! is_root && ! command -v sudo >/dev/null; then
    echo "run this as root, or install sudo and run it as a user allowed to use it" >&2
    exit 1
fi

# PostgreSQL 18.6 from its source archive; the script lives beside the repository.
pg_source_build="$REPO_ROOT/../shared/postgres/build.sh"
build_from_source=false
if [ ! -x "$PG_CONFIG" ] && [ "$PG_CONFIG" = "/opt/postgresql/$PG_MAJOR/bin/pg_config" ] \
    && [ "$PG_MAJOR" = 18 ] && [ -x "$pg_source_build" ]; then
    build_from_source=true
fi

packages=(libclang-dev clang pkg-config sudo curl)
# pg_cron: the client tests schedule purge() with it.
is_debian_layout && packages+=(postgresql-"$PG_MAJOR" postgresql-server-dev-"$PG_MAJOR"
                               postgresql-"$PG_MAJOR"-cron)
# What the source build needs; the archive holds no generated parser files.
$build_from_source && packages+=(bison flex gcc make zlib1g-dev libssl-dev)
# Whatever provides the commands will do (Node.js from elsewhere ships its own
# npm); Debian's packages otherwise.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
$with_python && packages+=(python3 python3-venv chromium)
if $with_examples; then
    packages+=(libpostgresql-jdbc-java)
    command -v javac >/dev/null || packages+=(default-jdk-headless)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if $build_from_source; then
    say "Building PostgreSQL 18 from source into /opt/postgresql/18 (about 5 minutes)"
    "$pg_source_build" "/opt/postgresql/$PG_MAJOR"
fi
if [ ! -x "$PG_CONFIG" ]; then
    echo "PostgreSQL $PG_MAJOR is not installed: no $PG_CONFIG. Install its server and" \
        "development files, then set PG_CONFIG to its pg_config." >&2
    exit 1
fi

# Servers run as `postgres` when the scripts run as root. Debian's packages create
# that user; a PostgreSQL built from source does not.
if is_root && ! id postgres >/dev/null 2>&1; then
    say "Creating the postgres system user"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

# Citus 13.2.2, for the scale-out tests, which run on PostgreSQL 15 only: built from
# its source archive beside the repository (about 6 minutes); skipped when installed.
citus_build="$REPO_ROOT/../shared/citus/build.sh"
if [ "$PG_MAJOR" = 15 ]; then
    if [ ! -x "$citus_build" ]; then
        echo "Citus is needed for PostgreSQL 15 and $citus_build is missing" >&2
        exit 1
    fi
    "$citus_build" "$PG_CONFIG"
fi

if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust (https://rustup.rs) first" >&2
    exit 1
fi

if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $CARGO_PGRX_VERSION" ]; then
    say "Installing cargo-pgrx $CARGO_PGRX_VERSION (takes several minutes)"
    cargo install cargo-pgrx --version "$CARGO_PGRX_VERSION" --locked
fi

# `cargo pgrx init` rewrites its whole configuration, so it is given every version
# already configured (whose pg_config still exists) as well as this one.
pgrx_config="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
if ! grep -qs "^pg$PG_MAJOR = \"$PG_CONFIG\"" "$pgrx_config"; then
    init_args=(--pg"$PG_MAJOR" "$PG_CONFIG")
    if [ -f "$pgrx_config" ]; then
        while read -r major path; do
            if [ "$major" != "$PG_MAJOR" ] && [ -x "$path" ]; then
                init_args+=(--pg"$major" "$path")
            fi
        done < <(sed -nE 's/^pg([0-9]+) = "(.*)"$/\1 \2/p' "$pgrx_config")
    fi
    say "Pointing cargo-pgrx at PostgreSQL $PG_MAJOR ($PG_CONFIG)"
    cargo pgrx init "${init_args[@]}"
fi

# uPlot for the dashboard, exactly as the lock file says; again only when the
# lock file changed since.
dashboard="$REPO_ROOT/http/dashboard"
if ! cmp -s "$dashboard/package-lock.json" "$dashboard/node_modules/.installed-lock.json"; then
    say "Installing the dashboard's chart library (npm ci in http/dashboard)"
    npm ci --prefix "$dashboard" --no-audit --no-fund --loglevel=error
    cp "$dashboard/package-lock.json" "$dashboard/node_modules/.installed-lock.json"
fi

if $with_python; then
    venv="$REPO_ROOT/.venv"
    requirements="$REPO_ROOT/tests/client/requirements.txt"
    stamp="$venv/.requirements"
    if ! cmp -s "$requirements" "$stamp"; then
        say "Creating the Python virtualenv for the client tests"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$stamp"
    fi
fi
