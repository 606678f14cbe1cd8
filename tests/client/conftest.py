"""Client-level tests: a real driver (psycopg 3) over real connections to a
throwaway cluster with the extension installed. scripts/test.sh starts the cluster
and sets USER_METRICS_TEST_DSN (and USER_METRICS_TEST_LOG, the server log)."""
import os

import psycopg
import pytest

from clusters import empty_tables, fresh_database

DATABASE = "user_metrics_client"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "packaging: what Debian packages for PostgreSQL 15 only: our package, the "
                   "Docker image, pg_cron")
    config.addinivalue_line(
        "markers", "major_upgrade: moves a database from the PostgreSQL of "
                   "USER_METRICS_UPGRADE_FROM_PG_CONFIG to the one under test; run once, in the "
                   "PostgreSQL 18 phase")
    config.addinivalue_line(
        "markers", "source_install: installs releases from source with cargo pgrx install into "
                   "the PostgreSQL under test; run once, in the PostgreSQL 18 phase, where the "
                   "test command installs from source too")


def _base_dsn():
    dsn = os.environ.get("USER_METRICS_TEST_DSN")
    if not dsn:
        raise RuntimeError(
            "USER_METRICS_TEST_DSN is not set: run these tests through scripts/test.sh, "
            "which starts the test cluster")
    return dsn


@pytest.fixture(scope="session")
def dsn():
    """A fresh database with the extension, for the whole test session."""
    return fresh_database(_base_dsn(), DATABASE)


@pytest.fixture
def db(dsn):
    """An autocommit connection to an emptied database."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        empty_tables(conn)
        yield conn


@pytest.fixture
def server_log():
    path = os.environ.get("USER_METRICS_TEST_LOG")
    if not path:
        raise RuntimeError("USER_METRICS_TEST_LOG is not set: run through scripts/test.sh")
    return path
