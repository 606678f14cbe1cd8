#!/usr/bin/env bash
# What the CHECK constraints cost a one-event call: three databases of one
# throwaway cluster (port BENCH_PORT, 55438 by default), measured in turn with
# pgbench (bench/one_event_per_call.sql, -M prepared, CLIENTS clients,
# SECONDS_PER_RUN seconds, ROUNDS rounds):
#   installed  the extension as CREATE EXTENSION makes it;
#   joined     the CHECK conditions of users, sessions, events and
#              ingest_counters joined by AND into one CHECK per table;
#   none       no CHECK on those four tables.
# PostgreSQL reads and prepares the CHECK expressions of a table for every
# statement that writes it; this tells whether the cost follows the constraints or
# their conditions. Prints calls/s per round. Not part of the test command.
#
#   bench/check_constraints.sh
#   ROUNDS=5 SECONDS_PER_RUN=30 CLIENTS=16 bench/check_constraints.sh
source "$(dirname "$0")/../scripts/common.sh"

BENCH_PORT="${BENCH_PORT:-55438}"
ROUNDS="${ROUNDS:-3}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-20}"
CLIENTS="${CLIENTS:-8}"
cluster="$(cluster_name bench-checks)"
variants=(installed joined none)
source "$REPO_ROOT/bench/pgbench_cluster.sh"

cd "$REPO_ROOT"
say "Building and installing user_metrics (release)"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags)

cleanup() { "$REPO_ROOT/scripts/cluster.sh" remove "$cluster" || true; }
trap cleanup EXIT

start_bench_cluster
create_bench_databases "${variants[@]/#/checks_}"

# The four tables' CHECK constraints, each table's replaced by what $1 says:
# 'joined' (one CHECK with every condition) or 'none'.
reshape_checks() {
    psql_bench -d "checks_$1" -v variant="$1" <<'SQL'
SET bench.variant = :'variant';
DO $$
DECLARE
    tables CONSTANT text[] := ARRAY['users', 'sessions', 'events', 'ingest_counters'];
    t text;
    conditions text[];
    c record;
BEGIN
    FOREACH t IN ARRAY tables LOOP
        conditions := '{}';
        FOR c IN SELECT k.conname, pg_get_expr(k.conbin, k.conrelid) AS condition
                 FROM pg_constraint AS k
                 WHERE k.conrelid = format('user_metrics.%I', t)::regclass AND k.contype = 'c'
                 ORDER BY k.conname LOOP
            conditions := conditions || format('(%s)', c.condition);
            EXECUTE format('ALTER TABLE user_metrics.%I DROP CONSTRAINT %I', t, c.conname);
        END LOOP;
        IF current_setting('bench.variant') = 'joined' THEN
            EXECUTE format('ALTER TABLE user_metrics.%I ADD CONSTRAINT %I CHECK (%s)',
                           t, t || '_checks', array_to_string(conditions, ' AND '));
        END IF;
    END LOOP;
END $$;
SQL
}
reshape_checks joined
reshape_checks none
for variant in "${variants[@]}"; do
    echo "$variant: $(psql_bench -d "checks_$variant" -At -c "
        SELECT count(*) || ' CHECK constraints on the four tables'
        FROM pg_constraint
        WHERE contype = 'c' AND conrelid IN ('user_metrics.users'::regclass, 'user_metrics.sessions'::regclass,
                                             'user_metrics.events'::regclass, 'user_metrics.ingest_counters'::regclass)")"
done

script="$(mktemp -d)"
chmod 755 "$script"
sed 's/:function(/user_metrics.ingest_metrics(/' bench/one_event_per_call.sql >"$script/one_event.sql"
chmod 644 "$script/one_event.sql"

say "pgbench, one event per call, $CLIENTS clients, $SECONDS_PER_RUN s, $ROUNDS rounds (calls/s)"
for round in $(seq "$ROUNDS"); do
    line="round $round"
    for variant in "${variants[@]}"; do
        line="$line   $variant $(pgbench_tps "checks_$variant" "$script/one_event.sql")"
    done
    echo "$line"
done
rm -rf "$script"
