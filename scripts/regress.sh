#!/usr/bin/env bash
# Runs the pg_regress suite in tests/pg_regress (sql/ and expected/, the layout
# `cargo pgrx regress` uses) against the running throwaway cluster given by
# --port and --socket-dir, in a freshly created database. setup.sql runs first.
#
# cargo-pgrx 0.18.1's `regress` starts its own server without honouring --runas,
# and PostgreSQL refuses to start as root, so the suite is driven here instead:
# the same files, the same pg_regress, the same terse verbosity. psql and
# pg_regress are those of PG_MAJOR / PG_CONFIG (scripts/common.sh), which must be
# the version of the cluster.
#
#   regress.sh --port N --socket-dir DIR [--update]
# --update copies the actual output over expected/ for tests that differ (review
# the diff before committing it).
source "$(dirname "$0")/common.sh"

parse_suite_arguments "$@"

suite="$REPO_ROOT/tests/pg_regress"
db=user_metrics_regress
bindir="$(pg_bindir)"
pg_regress="$(pg_regress_path)"

# The notices of DROP ... IF EXISTS and the like are noise in expected output.
export PGOPTIONS="-c client_min_messages=warning"
fresh_suite_database "$db"

server_major="$("$bindir/psql" --no-psqlrc -qAt -h "$socket_dir" -p "$port" -U postgres -d postgres \
    -c "SELECT current_setting('server_version_num')::int / 10000")"
if [ "$server_major" != "$PG_MAJOR" ]; then
    echo "the server on port $port is PostgreSQL $server_major, not $PG_MAJOR (set PG_MAJOR or PG_CONFIG)" >&2
    exit 2
fi
echo "pg_regress with PostgreSQL $PG_MAJOR ($pg_regress) on port $port"

tests=(setup)
for f in "$suite"/sql/*.sql; do
    name="$(basename "$f" .sql)"
    [ "$name" = setup ] && continue
    [ -f "$suite/expected/$name.out" ] || { echo "tests/pg_regress/expected/$name.out is missing" >&2; exit 1; }
    tests+=("$name")
done

launcher="$(mktemp)"
trap 'rm -f "$launcher"' EXIT
printf '#!/bin/bash\n"$@" -v VERBOSITY=terse\n' >"$launcher"
chmod +x "$launcher"

rm -rf "$suite/results" "$suite/regression.diffs" "$suite/regression.out"
status=0
(cd "$suite" && env -u PGDATABASE -u PGHOST -u PGPORT -u PGUSER "$pg_regress" \
    --host="$socket_dir" --port="$port" --user=postgres --use-existing --dbname="$db" \
    --inputdir="$suite" --outputdir="$suite" --launcher="$launcher" \
    --bindir="$bindir" "${tests[@]}") || status=$?

if [ "$status" -ne 0 ]; then
    [ -f "$suite/regression.diffs" ] && cat "$suite/regression.diffs"
    if $update; then
        for result in "$suite"/results/*.out; do
            cp "$result" "$suite/expected/$(basename "$result")"
        done
        echo "expected/ updated from results/: review with git diff" >&2
    fi
fi
exit "$status"
