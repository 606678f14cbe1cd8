"""Tests of user-metrics-http over real HTTP: the release binary, started here
against a fresh database of the throwaway cluster that scripts/test.sh runs
(USER_METRICS_TEST_DSN), on USER_METRICS_HTTP_TEST_PORT (25605 by default, as
scripts/test.sh sets it) and the ports after it."""
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
# The client tier's helpers: event builders, fresh databases.
sys.path.insert(0, str(ROOT / "tests" / "client"))

from clusters import empty_tables, fresh_database  # noqa: E402
BINARY = Path(os.environ.get("USER_METRICS_HTTP_BIN", ROOT / "target" / "release" / "user-metrics-http"))
PORT = int(os.environ.get("USER_METRICS_HTTP_TEST_PORT", "25605"))
DATABASE = "user_metrics_http"
# The server's login role: no rights of its own (NOINHERIT), it acts as the
# roles it is granted, one per pool. bogus_reader is named like a reader but the
# extension granted it nothing: what the database refuses on its own.
LOGIN_ROLE = "user_metrics_http_test"
BOGUS_ROLE = "http_bogus_reader"
# Small limits, so that the tests can reach them.
BODY_LIMIT = 1024 * 1024
TIMEOUT_MS = 4000
POOL_SIZE = 6
HEADER_TIMEOUT_MS = 2000
BODY_TIMEOUT_MS = 3000
KEEPALIVE_TIMEOUT_MS = 3000


def _base_dsn():
    dsn = os.environ.get("USER_METRICS_TEST_DSN")
    if not dsn:
        raise RuntimeError("USER_METRICS_TEST_DSN is not set: run these tests through scripts/test.sh, "
                           "which starts the test cluster")
    return dsn


@pytest.fixture(scope="session")
def dsn():
    """A fresh database with the extension and the server's login role."""
    url = fresh_database(_base_dsn(), DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        for role in (LOGIN_ROLE, BOGUS_ROLE):
            conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {LOGIN_ROLE} LOGIN NOINHERIT")
        conn.execute(f"CREATE ROLE {BOGUS_ROLE} NOLOGIN")
        conn.execute(f"GRANT user_metrics_writer, user_metrics_reader, {BOGUS_ROLE} TO {LOGIN_ROLE}")
    return url


def server_conninfo(dsn):
    return psycopg.conninfo.make_conninfo(dsn, user=LOGIN_ROLE)


class Server:
    def __init__(self, dsn, port, tmp, wait_status=200, open_files=None, ca=None, **settings):
        # ca: with TLS settings, the CA file that clients verify the server with.
        self.url = f"{'https' if ca else 'http'}://127.0.0.1:{port}"
        self.verify = str(ca) if ca else True
        self.tokens_file = tmp / f"tokens-{port}"
        self.tokens_file.unlink(missing_ok=True)
        self.tokens = {role: self.make_token(role)
                       for role in ("user_metrics_writer", "user_metrics_reader", BOGUS_ROLE)}
        self.log_path = tmp / f"server-{port}.log"
        env = {**os.environ,
               "USER_METRICS_HTTP_DATABASE": dsn if wait_status != 200 else server_conninfo(dsn),
               "USER_METRICS_HTTP_TOKENS": str(self.tokens_file),
               "USER_METRICS_HTTP_LISTEN": f"127.0.0.1:{port}",
               "USER_METRICS_HTTP_POOL_SIZE": str(POOL_SIZE),
               "USER_METRICS_HTTP_BODY_LIMIT": str(BODY_LIMIT),
               "USER_METRICS_HTTP_TIMEOUT_MS": str(TIMEOUT_MS),
               "USER_METRICS_HTTP_HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS),
               "USER_METRICS_HTTP_BODY_TIMEOUT_MS": str(BODY_TIMEOUT_MS),
               "USER_METRICS_HTTP_KEEPALIVE_TIMEOUT_MS": str(KEEPALIVE_TIMEOUT_MS),
               **settings}
        self.log = open(self.log_path, "w")
        # open_files: the server's limit of open files (soft and hard), as
        # `ulimit -n` would set it.
        limit = None if open_files is None else \
            (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files)))
        self.process = subprocess.Popen([BINARY], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        preexec_fn=limit)
        deadline = time.monotonic() + 20
        while True:
            assert self.process.poll() is None, self.log_text()
            try:
                if requests.get(self.url + "/health", timeout=2, verify=self.verify).status_code == wait_status:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /health:\n" + self.log_text()
            time.sleep(0.1)

    def make_token(self, role):
        run = subprocess.run([BINARY, "token", role, self.tokens_file], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    def add_token(self, role):
        """A new token for `role`, taken in by the running server (SIGHUP)."""
        token = self.make_token(role)
        reloads = self.log_text().count("reloaded the token file")
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.log_text().count("reloaded the token file") <= reloads:
            assert time.monotonic() < deadline, self.log_text()
            time.sleep(0.05)
        return token

    def headers(self, role):
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def writer(self):
        return self.headers("user_metrics_writer")

    @property
    def reader(self):
        return self.headers("user_metrics_reader")

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        """SIGTERM, as docker stop sends it; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code


@pytest.fixture(scope="session")
def server(dsn, tmp_path_factory):
    server = Server(dsn, PORT, tmp_path_factory.mktemp("http"))
    yield server
    assert server.stop() == 0, server.log_text()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium (scripts/install.sh --python installs it), driven by
    Playwright, which downloads no browser of its own here."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def wait_until(page, expression, timeout=20):
    """Waits until a JavaScript expression is true in the page. (Playwright's
    wait_for_function evaluates it with eval, which the page's
    Content-Security-Policy rightly forbids; evaluate does not.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.05)


@pytest.fixture
def db(dsn):
    """An autocommit superuser connection to an emptied database."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        empty_tables(conn)
        yield conn
