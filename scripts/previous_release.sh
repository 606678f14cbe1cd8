#!/usr/bin/env bash
# Builds a release of user_metrics (the previous one, PREVIOUS_RELEASE_VERSION in
# common.sh, or the version given) for PostgreSQL $PG_MAJOR with `cargo pgrx
# package`, from its commit in this repository (RELEASE_COMMITS), and prints the
# folder its files are staged in (usr/..., or opt/... for a PostgreSQL built from
# source). The result is kept in target/previous-release/, one folder per commit
# and PostgreSQL version, so that later runs only print the path.
#
#   previous_release.sh [VERSION]
#
# Needs the commit in the clone: a shallow clone must first `git fetch --unshallow`.
source "$(dirname "$0")/common.sh"

version="${1:-$PREVIOUS_RELEASE_VERSION}"
commit="$(release_commit "$version")"
base="$REPO_ROOT/target/previous-release"
dir="$base/$version-${commit:0:12}-pg$PG_MAJOR"
staged="$dir/staged"
if [ -f "$dir/complete" ]; then
    echo "$staged"
    exit 0
fi

if ! git -C "$REPO_ROOT" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "commit $commit (user_metrics $version) is not in this clone:" \
        "fetch the history (git fetch --unshallow) to build that release's library" >&2
    exit 2
fi
say "Building user_metrics $version (commit ${commit:0:12}) for PostgreSQL $PG_MAJOR" >&2
rm -rf "$dir"
mkdir -p "$dir/src"
git -C "$REPO_ROOT" archive "$commit" | tar -x -C "$dir/src"
# A target folder of its own: the release's crate has the name of this one, and
# its build would replace this one's library in target/release.
(cd "$dir/src" && CARGO_TARGET_DIR="$base/target" \
    cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$staged" >&2)
library="$staged$("$PG_CONFIG" --pkglibdir)/$(release_library "$version")"
if [ ! -f "$library" ]; then
    echo "the build of $version left no $library" >&2
    exit 1
fi
touch "$dir/complete"
echo "$staged"
