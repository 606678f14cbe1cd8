"""Two versions' libraries in one backend: a connection that called the old
version's functions calls the new version's after ALTER EXTENSION UPDATE, so
both libraries load there, each running its _PG_init. The settings the first
defined must not be defined again ("attempt to redefine parameter"), and keep
their value. A copy of the installed library under another name stands for the
next version's: PostgreSQL loads a file of another name (and inode) again."""
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from clusters import pg_bin
from test_upgrade import CURRENT


def test_a_second_library_loads_beside_the_first_and_keeps_the_settings(dsn):
    pkglibdir = subprocess.run([pg_bin("pg_config"), "--pkglibdir"], capture_output=True, text=True,
                               check=True).stdout.strip()
    installed = Path(pkglibdir) / f"user_metrics-{CURRENT}.so"
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o755)  # the server runs as another user
        other = Path(folder) / "user_metrics-next.so"
        shutil.copy(installed, other)
        other.chmod(0o644)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET user_metrics.allow_drop_with_data = on")
            conn.execute(f"LOAD '{installed}'")
            conn.execute(f"LOAD '{other}'")
            assert conn.execute("SHOW user_metrics.allow_drop_with_data").fetchone()[0] == "on"
            conn.execute("SET user_metrics.allow_drop_with_data = off")
            assert conn.execute("SELECT user_metrics.health()->>'status'").fetchone()[0] == "ok"
            # A value that is no boolean is refused by the definition still in place.
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                conn.execute("SET user_metrics.allow_drop_with_data = 'maybe'")
