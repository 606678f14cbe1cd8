#!/usr/bin/env bash
# Installs what building and testing user_metrics needs, skipping whatever is
# already there, so it is safe to run again:
#   - Debian packages: PostgreSQL 15 server and headers, clang/libclang (for pgrx's
#     bindgen), pkg-config, sudo;
#   - cargo-pgrx 0.18.1 (the version the pgrx dependency is pinned to);
#   - `cargo pgrx init` against the system PostgreSQL (downloads nothing);
#   - with --python: a virtualenv in .venv with the client-test dependencies.
source "$(dirname "$0")/common.sh"

with_python=false
[ "${1:-}" = "--python" ] && with_python=true

if ! is_root && ! command -v sudo >/dev/null; then
    echo "run this as root, or install sudo and run it as a user allowed to use it" >&2
    exit 1
fi

packages=(postgresql-"$PG_MAJOR" postgresql-server-dev-"$PG_MAJOR" libclang-dev clang pkg-config sudo)
$with_python && packages+=(python3 python3-venv)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust (https://rustup.rs) first" >&2
    exit 1
fi

if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $CARGO_PGRX_VERSION" ]; then
    say "Installing cargo-pgrx $CARGO_PGRX_VERSION (takes several minutes)"
    cargo install cargo-pgrx --version "$CARGO_PGRX_VERSION" --locked
fi

pgrx_config="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
if ! grep -qs "^pg$PG_MAJOR = \"$PG_CONFIG\"" "$pgrx_config"; then
    say "Pointing cargo-pgrx at the system PostgreSQL $PG_MAJOR"
    cargo pgrx init --pg"$PG_MAJOR" "$PG_CONFIG"
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
