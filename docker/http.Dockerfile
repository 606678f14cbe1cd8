# user-metrics-http, the HTTP API of user_metrics (README, "HTTP API"), in two
# stages: the builder compiles the one binary; the final image is Debian slim
# with that binary, run as a user of its own.
#
#   docker build -f docker/http.Dockerfile -t user-metrics-http .
ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS builder
# npm: the dashboard's chart library (uPlot) is installed from its lock file and
# embedded in the binary.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN npm ci --prefix http/dashboard --no-audit --no-fund \
    && cargo build --release --locked -p user-metrics-http

FROM debian:bookworm-slim
# A user of its own, by number so that the runtime need not look it up.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin user-metrics-http
COPY --from=builder /src/target/release/user-metrics-http /usr/local/bin/user-metrics-http
USER 10001
ENV USER_METRICS_HTTP_LISTEN=0.0.0.0:5001
EXPOSE 5001
ENTRYPOINT ["/usr/local/bin/user-metrics-http"]
