#!/usr/bin/env bash
# Runs the isolation suite in tests/isolation (specs/ and expected/, the layout of
# PostgreSQL's own src/test/isolation) against the running throwaway cluster given
# by --port and --socket-dir, in a freshly created database, with PostgreSQL's
# pg_isolation_regress and isolationtester. Each spec drives several sessions
# through a fixed interleaving of steps, so what concurrent calls do to each other
# (who waits, who wins, which error whom gets) is compared exactly.
#
#   isolation.sh --port N --socket-dir DIR [--update]
# --update copies the actual output over expected/ for specs that differ (review
# the diff before committing it).
source "$(dirname "$0")/common.sh"

parse_suite_arguments "$@"

suite="$REPO_ROOT/tests/isolation"
db=user_metrics_isolation
bindir="$(pg_bindir)"
# postgresql-server-dev ships both programs here; pg_isolation_regress finds
# isolationtester beside itself.
pg_isolation_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress"
[ -x "$pg_isolation_regress" ] || { echo "$pg_isolation_regress is missing (postgresql-server-dev-$PG_MAJOR)" >&2; exit 1; }

# The notices of DROP ... IF EXISTS and the like are noise in expected output.
export PGOPTIONS="-c client_min_messages=warning"
fresh_suite_database "$db"

tests=()
for f in "$suite"/specs/*.spec; do
    name="$(basename "$f" .spec)"
    [ -f "$suite/expected/$name.out" ] || $update || { echo "tests/isolation/expected/$name.out is missing" >&2; exit 1; }
    tests+=("$name")
done

rm -rf "$suite/results" "$suite/output_iso" "$suite/regression.diffs" "$suite/regression.out"
status=0
(cd "$suite" && env -u PGDATABASE -u PGHOST -u PGPORT -u PGUSER "$pg_isolation_regress" \
    --host="$socket_dir" --port="$port" --user=postgres --use-existing --dbname="$db" \
    --inputdir="$suite" --outputdir="$suite/output_iso" \
    --bindir="$bindir" "${tests[@]}") || status=$?

if [ "$status" -ne 0 ]; then
    [ -f "$suite/output_iso/regression.diffs" ] && cat "$suite/output_iso/regression.diffs"
    if $update; then
        for result in "$suite"/output_iso/results/*.out; do
            cp "$result" "$suite/expected/$(basename "$result")"
        done
        echo "expected/ updated from output_iso/results/: review with git diff" >&2
    fi
fi
exit "$status"
