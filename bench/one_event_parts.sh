#!/usr/bin/env bash
# What a call of one event is made of, against the seed's three statements: one
# throwaway cluster (port BENCH_PORT, 55444 by default), pgbench
# (-M prepared, CLIENTS clients, SECONDS_PER_RUN seconds, ROUNDS rounds, each
# side from empty tables, in turn), calls or transactions per second of:
#   seed            bench/seed_per_event.sql, the seed's three statements;
#   ingest_metrics  bench/one_event_per_call.sql, the extension as installed;
#   statement       its one statement (sql/queries/store_one.sql) as plain SQL,
#                   no function around it (bench/one_event_parts.py), so
#                   without the counters and statistics that the function then
#                   changes in place;
#   no CHECK        the statement in a database whose users, sessions, events
#                   and ingest_counters have no CHECK constraint.
# The gaps between them are what the function around the statement (with the
# counters) and the CHECK constraints cost. Not part of the test command.
#
#   bench/one_event_parts.sh
#   ROUNDS=3 SECONDS_PER_RUN=20 bench/one_event_parts.sh
source "$(dirname "$0")/../scripts/common.sh"

BENCH_PORT="${BENCH_PORT:-55444}"
ROUNDS="${ROUNDS:-2}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-15}"
CLIENTS="${CLIENTS:-8}"
cluster="$(cluster_name bench-parts)"
source "$REPO_ROOT/bench/pgbench_cluster.sh"
work="$(mktemp -d)"
chmod 755 "$work"

cleanup() { "$REPO_ROOT/scripts/cluster.sh" remove "$cluster" || true; rm -rf "$work"; }
trap cleanup EXIT

cd "$REPO_ROOT"
say "Building and installing user_metrics (release)"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags)

start_bench_cluster
create_bench_databases installed nochecks seed
psql_bench -d nochecks <<'SQL'
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT k.conrelid::regclass AS tab, k.conname
             FROM pg_constraint AS k
             WHERE k.contype = 'c'
               AND k.conrelid IN ('user_metrics.users'::regclass, 'user_metrics.sessions'::regclass,
                                  'user_metrics.events'::regclass, 'user_metrics.ingest_counters'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tab, c.conname);
    END LOOP;
END $$;
SQL

sed 's/:function(/user_metrics.ingest_metrics(/' bench/one_event_per_call.sql >"$work/ingest_metrics.sql"
cp bench/seed_per_event.sql "$work/seed.sql"
python3 bench/one_event_parts.py >"$work/statement.sql"
chmod 644 "$work"/*.sql

# side name: database, then script
sides=("seed:seed:seed" "ingest_metrics:installed:ingest_metrics" "statement:installed:statement"
       "no CHECK:nochecks:statement")

say "pgbench, one event per call, $CLIENTS clients, $SECONDS_PER_RUN s, $ROUNDS rounds (per second)"
for round in $(seq "$ROUNDS"); do
    line="round $round"
    for side in "${sides[@]}"; do
        IFS=: read -r name db script <<<"$side"
        line="$line   $name $(pgbench_tps "$db" "$work/$script.sql")"
    done
    echo "$line"
done
