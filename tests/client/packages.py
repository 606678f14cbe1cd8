"""The Debian packages scripts/test.sh builds for PostgreSQL 15: this version's
(USER_METRICS_TEST_DEB) and the previous release's (USER_METRICS_TEST_PREVIOUS_DEB),
installed by the upgrade tests into the PostgreSQL the clusters run."""
import os
import subprocess


def package_files():
    """(previous release's package, this version's package)."""
    previous, current = (os.environ.get("USER_METRICS_TEST_PREVIOUS_DEB"),
                         os.environ.get("USER_METRICS_TEST_DEB"))
    assert previous and current, ("USER_METRICS_TEST_PREVIOUS_DEB and USER_METRICS_TEST_DEB are not set: "
                                  "run through scripts/test.sh, which builds both packages")
    return previous, current


def deb_version(deb):
    return subprocess.run(["dpkg-deb", "--field", deb, "Version"], capture_output=True,
                          text=True, check=True).stdout.strip()


def install_package(deb):
    """dpkg -i, as a DBA upgrades a server: every file of the package replaces the
    installed one, and the installed package's files it lacks are removed."""
    root = [] if os.geteuid() == 0 else ["sudo"]
    run = subprocess.run([*root, "dpkg", "-i", deb], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def release_library(version):
    """The library a release's functions name, as scripts/common.sh's
    release_library names its file: one library for every version up to 0.2.0,
    one per version from 0.3.0 on."""
    return "$libdir/user_metrics" if version in ("0.1.0", "0.2.0") else f"user_metrics-{version}"


def libraries(conn):
    """The libraries the extension's C functions name."""
    return {row[0] for row in conn.execute(
        "SELECT DISTINCT p.probin FROM pg_proc AS p "
        "WHERE p.pronamespace = 'user_metrics'::regnamespace AND p.probin IS NOT NULL")}


def extension_version(conn):
    return conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'").fetchone()[0]
