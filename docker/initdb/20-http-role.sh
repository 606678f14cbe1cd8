#!/usr/bin/env bash
# The login role of user-metrics-http (the compose file's http service), run by
# the image's entrypoint once, after 10-user-metrics.sql. NOINHERIT: it has no
# rights of its own; each of its connections acts as user_metrics_writer or
# user_metrics_reader, as the caller's token says.
set -euo pipefail
: "${USER_METRICS_HTTP_PASSWORD:?set USER_METRICS_HTTP_PASSWORD in docker/.env}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v password="$USER_METRICS_HTTP_PASSWORD" <<'SQL'
CREATE ROLE user_metrics_http LOGIN NOINHERIT PASSWORD :'password';
GRANT user_metrics_writer, user_metrics_reader TO user_metrics_http;
SQL
