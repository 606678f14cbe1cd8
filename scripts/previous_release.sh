#!/usr/bin/env bash
# Builds the previous release (PREVIOUS_RELEASE_COMMIT in common.sh) for PostgreSQL
# $PG_MAJOR with `cargo pgrx package`, from that commit of this repository, and
# prints the folder its files are staged in (usr/..., or opt/... for a PostgreSQL
# built from source). The result is kept in target/previous-release/, one folder
# per commit and PostgreSQL version, so that later runs only print the path.
# Needs the commit in the clone: a shallow clone must first `git fetch --unshallow`.
source "$(dirname "$0")/common.sh"

commit="$PREVIOUS_RELEASE_COMMIT"
base="$REPO_ROOT/target/previous-release"
dir="$base/$PREVIOUS_RELEASE_VERSION-${commit:0:12}-pg$PG_MAJOR"
staged="$dir/staged"
if [ -f "$dir/complete" ]; then
    echo "$staged"
    exit 0
fi

if ! git -C "$REPO_ROOT" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "commit $commit (user_metrics $PREVIOUS_RELEASE_VERSION) is not in this clone:" \
        "fetch the history (git fetch --unshallow) to build the previous release's library" >&2
    exit 2
fi
say "Building user_metrics $PREVIOUS_RELEASE_VERSION (commit ${commit:0:12}) for PostgreSQL $PG_MAJOR" >&2
rm -rf "$dir"
mkdir -p "$dir/src"
git -C "$REPO_ROOT" archive "$commit" | tar -x -C "$dir/src"
# A target folder of its own: the release's crate has the name of this one, and
# its build would replace this one's library in target/release.
(cd "$dir/src" && CARGO_TARGET_DIR="$base/target" \
    cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$staged" >&2)
library="$staged$("$PG_CONFIG" --pkglibdir)/user_metrics.so"
if [ ! -f "$library" ]; then
    echo "the build of $PREVIOUS_RELEASE_VERSION left no $library" >&2
    exit 1
fi
touch "$dir/complete"
echo "$staged"
