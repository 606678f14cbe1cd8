#!/usr/bin/env bash
# Builds a Debian package of user_metrics for PostgreSQL $PG_MAJOR (Debian's
# postgresql-NN layout) from `cargo pgrx package`, and prints its path:
#   target/debian/postgresql-15-user-metrics_<version>_<arch>.deb
# Install it with: sudo dpkg -i <that file>; then CREATE EXTENSION user_metrics.
#
# The package holds this version's library (user_metrics-<version>.so) and, beside
# it, the previous release's (built by previous_release.sh) with its install
# script: installing the package on a server whose databases run the previous
# release replaces no file they use, and each database moves with its
# own ALTER EXTENSION user_metrics UPDATE.
#
#   package_deb.sh --previous-release
# builds the previous release's own package instead, as it was released (for the
# upgrade tests, which start from it).
source "$(dirname "$0")/common.sh"

if ! is_debian_layout; then
    echo "a Debian package needs Debian's postgresql-$PG_MAJOR layout, not $PG_CONFIG:" \
        "install from source with cargo pgrx install instead" >&2
    exit 2
fi

cd "$REPO_ROOT"
arch="$(dpkg --print-architecture)"
name="postgresql-$PG_MAJOR-user-metrics"
libdir="$("$PG_CONFIG" --pkglibdir)"
extdir="$("$PG_CONFIG" --sharedir)/extension"
previous="$("$REPO_ROOT/scripts/previous_release.sh")"

if [ "${1:-}" = --previous-release ]; then
    version="$PREVIOUS_RELEASE_VERSION"
    staged="$previous"
else
    version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
    cargo pgrx package --pg-config "$PG_CONFIG" >&2
    staged="$REPO_ROOT/target/release/user_metrics-pg$PG_MAJOR"
fi
root="$REPO_ROOT/target/debian/${name}_${version}_${arch}"
rm -rf "$root"
mkdir -p "$root/DEBIAN"
cp -a "$staged/usr" "$root/"
if [ "${1:-}" != --previous-release ]; then
    install -m 0755 "$previous$libdir/$(release_library "$PREVIOUS_RELEASE_VERSION")" "$root$libdir/"
    install -m 0644 "sql/releases/user_metrics--$PREVIOUS_RELEASE_VERSION.sql" "$root$extdir/"
    # Releases up to 0.2.0 name their library through a secondary control file.
    control="sql/releases/user_metrics--$PREVIOUS_RELEASE_VERSION.control"
    if [ -f "$control" ]; then
        install -m 0644 "$control" "$root$extdir/"
    fi
fi
size_kb="$(du -sk "$root/usr" | cut -f1)"
cat >"$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: user_metrics maintainers <maintainers@user-metrics.invalid>
Depends: postgresql-$PG_MAJOR, libc6
Installed-Size: $size_kb
Section: database
Priority: optional
Description: voice-app usage metrics for PostgreSQL $PG_MAJOR
 user_metrics ingests usage metrics events (talked time, microphone and
 speaker use, voice sentiment) with user_metrics.ingest_metrics(jsonb) and
 reports on them from inside the database. After installing the package, run
 CREATE EXTENSION user_metrics in each database that needs it, or ALTER
 EXTENSION user_metrics UPDATE in each database that has an older version.
CONTROL
dpkg-deb --root-owner-group --build "$root" "$root.deb" >&2
echo "$root.deb"
