#!/usr/bin/env bash
# The main job, from a fresh machine: install what is missing, build and install
# user_metrics (release), start a throwaway PostgreSQL of our own, create the
# extension, ingest the sample data set (sample/events.json) and print the ingest
# summary, the three reports and health(), and start user-metrics-http (the HTTP
# API and its dashboard) on port 5001 against the demo database. Both are left
# running; the last lines give the dashboard's address and a reader token.
# Safe to run again: it rebuilds what changed and recreates the demo database.
# PostgreSQL 15 by default; PG_CONFIG (or PG_MAJOR) chooses another, e.g.
#   PG_CONFIG=/opt/postgresql/18/bin/pg_config ./scripts/demo.sh
# which uses the cluster demo-pg18 on port 55436.
source "$(dirname "$0")/common.sh"

if [ "$PG_MAJOR" = 15 ]; then default_port=55432; else default_port=55436; fi
DEMO_PORT="${DEMO_PORT:-$default_port}"
DEMO_DB=user_metrics_demo
DEMO_HTTP_PORT="${DEMO_HTTP_PORT:-5001}"
cluster="$(cluster_name demo)"
socket_dir="$USER_METRICS_RUN_DIR/$cluster"

"$REPO_ROOT/scripts/install.sh"

say "Building and installing user_metrics (release)"
cd "$REPO_ROOT"
# shellcheck disable=SC2046
cargo pgrx install --release $(pgrx_install_flags)
say "Building user-metrics-http (release)"
cargo build --release -p user-metrics-http

say "Starting a throwaway PostgreSQL $PG_MAJOR on port $DEMO_PORT ($socket_dir)"
"$REPO_ROOT/scripts/cluster.sh" start "$cluster" "$DEMO_PORT"

psql_demo() {
    "$(pg_bindir)/psql" --no-psqlrc --quiet -v ON_ERROR_STOP=1 \
        -h "$socket_dir" -p "$DEMO_PORT" -U postgres "$@"
}
PGOPTIONS="-c client_min_messages=warning" \
    psql_demo -d postgres -c "DROP DATABASE IF EXISTS $DEMO_DB" -c "CREATE DATABASE $DEMO_DB"
psql_demo -d "$DEMO_DB" -c "CREATE EXTENSION user_metrics"

say "Ingesting sample/events.json"
psql_demo -d "$DEMO_DB" -v events="$(cat "$REPO_ROOT/sample/events.json")" <<'SQL'
\pset footer off
SELECT jsonb_array_length(:'events'::jsonb) AS events_sent,
       s.accepted, s.duplicates, s.rejected
FROM user_metrics.ingest_metrics(:'events'::jsonb) AS result,
     jsonb_to_record(result) AS s (accepted int, duplicates int, rejected int)
\gset summary_
\echo
\echo 'events sent:' :summary_events_sent '  accepted:' :summary_accepted '  duplicates:' :summary_duplicates '  rejected:' :summary_rejected
\echo
\echo 'Rejected events (kept in user_metrics.rejected_events):'
SELECT batch_index AS index, event_id, error_code, error_message
FROM user_metrics.rejected_events ORDER BY batch_index;
SQL

psql_demo -d "$DEMO_DB" <<'SQL'
\pset footer off
SET TimeZone = 'UTC';
\echo 'aggregate_user_metrics(): talked time (seconds) and sessions per user'
SELECT email, name, round(total_talked_time::numeric, 1) AS total_talked_time, session_count
FROM user_metrics.aggregate_user_metrics();
\echo 'get_session_details(''s-0002'')'
\x on
SELECT * FROM user_metrics.get_session_details('s-0002');
\x off
\echo 'generate_weekly_report(''2026-11-23 00:00Z''): the week of 16-22 November'
SELECT email, name, session_count, round(total_talked_time::numeric, 1) AS total_talked_time,
       last_session_at
FROM user_metrics.generate_weekly_report('2026-11-23 00:00Z');
\echo 'health()'
SELECT jsonb_pretty(user_metrics.health()) AS health;
SQL

say "Starting user-metrics-http on port $DEMO_HTTP_PORT"
"$REPO_ROOT/scripts/http_server.sh" start "$cluster" "$DEMO_PORT" "$DEMO_DB" "$DEMO_HTTP_PORT"
echo "curl -s localhost:$DEMO_HTTP_PORT/health"
curl -s "localhost:$DEMO_HTTP_PORT/health"
echo

# shellcheck disable=SC1091
source "$socket_dir/http/tokens.env"
# The sample data's three weeks (from Monday 2 November 2026), in Berlin time.
dashboard="http://localhost:$DEMO_HTTP_PORT/dashboard?from=2026-11-02&to=2026-11-22&tz=Europe/Berlin&week_ending=2026-11-23"

cat <<EOF

The demo cluster and the HTTP API are still running. Connect with:
    $(pg_bindir)/psql -h $socket_dir -p $DEMO_PORT -U postgres $DEMO_DB
    source $socket_dir/http/tokens.env      # WRITER_TOKEN and READER_TOKEN
    curl -s -H "Authorization: Bearer \$READER_TOKEN" localhost:$DEMO_HTTP_PORT/users/julia.rossi@example.com/metrics
Stop them with:
    scripts/http_server.sh stop $cluster
    PG_MAJOR=$PG_MAJOR scripts/cluster.sh stop $cluster      (remove instead of stop also deletes it)

The dashboard: open this address and sign in with the reader token (the page keeps
it in its memory only; it never goes into an address):
    $dashboard
    reader token: $READER_TOKEN
EOF
