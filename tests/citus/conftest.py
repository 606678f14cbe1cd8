"""The Citus tier: user_metrics distributed over a coordinator and two workers
(scripts/citus_cluster.sh, PostgreSQL 15 only) against the same data in a
single-node database. scripts/test.sh starts both clusters and sets
USER_METRICS_TEST_DSN (the single-node server) and USER_METRICS_CITUS_PORT (the
coordinator's port)."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "client"))
sys.path.insert(0, str(HERE.parents[1] / "bench"))

from citus import connect, drop_citus_database, fresh_citus_database  # noqa: E402
from clusters import drop_database, fresh_database  # noqa: E402
from load import load_sample_and_workload  # noqa: E402

CITUS_DB = "um_citus"
SINGLE_DB = "um_single"


def _single_base():
    dsn = os.environ.get("USER_METRICS_TEST_DSN")
    if not dsn or not os.environ.get("USER_METRICS_CITUS_PORT"):
        raise RuntimeError("USER_METRICS_TEST_DSN and USER_METRICS_CITUS_PORT are not set: run "
                           "the Citus tier through scripts/test.sh, which starts both clusters")
    return dsn


@pytest.fixture(scope="session")
def single_base():
    """The DSN of the single-node server (for fresh databases of a test's own)."""
    return _single_base()


@pytest.fixture(scope="session")
def loaded():
    """(citus DSN, single-node DSN): the extension distributed on the Citus cluster
    and installed on the single node, both loaded with the sample and the
    generated workload by the same calls in the same order, and what the calls
    returned."""
    single = fresh_database(_single_base(), SINGLE_DB)
    citus = fresh_citus_database(CITUS_DB)
    with connect(citus) as conn:
        conn.execute("CREATE EXTENSION user_metrics")
        conn.execute("SELECT user_metrics.distribute()")
    summary = load_sample_and_workload(citus, single)
    yield citus, single, summary
    drop_citus_database(CITUS_DB)
    drop_database(_single_base(), SINGLE_DB)

