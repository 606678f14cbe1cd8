"""Installing and running user_metrics the ways DBAs and app teams expect: the
Docker image's files (linted, and its init script and healthcheck run against a
real server, since no Docker engine runs here), the Debian package (built,
installed into the system PostgreSQL, and used by CREATE EXTENSION)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml

from clusters import fresh_database, pg_bin, tool_env
from packages import deb_version, release_library

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VERSION = re.search(r'^version = "(.+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)

# The package and the image are made for PostgreSQL 15 (Debian's postgresql-15, the
# postgres:15 image); scripts/test.sh runs these tests on 15 and leaves them out on 18.
pytestmark = pytest.mark.packaging


def test_the_dockerfile_passes_hadolint(tmp_path):
    run = subprocess.run([BIN / "hadolint", ROOT / "docker" / "Dockerfile"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    # The linter does fail on a bad Dockerfile.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM postgres\nRUN cd /tmp && apt-get install curl\n")
    assert subprocess.run([BIN / "hadolint", bad], capture_output=True).returncode != 0


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    check = [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec"]
    run = subprocess.run([*check, ROOT / "docker" / "compose.yaml"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  db:\n    image: postgres\n    healthcheck: yes-please\n")
    assert subprocess.run([*check, bad], capture_output=True).returncode != 0


def test_the_compose_service_is_local_persistent_and_configured_from_env():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    db = compose["services"]["db"]
    assert all(port.startswith("127.0.0.1:") for port in db["ports"])
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"] and "pgdata" in compose["volumes"]
    assert db["env_file"] == ".env"
    example = (ROOT / "docker" / ".env.example").read_text()
    for name in ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "USER_METRICS_PORT", "PG_MAJOR"]:
        assert re.search(rf"^{name}=", example, re.M), name
    assert db["build"]["args"]["PG_MAJOR"] == "${PG_MAJOR:-15}"


def test_the_image_is_built_by_the_readme_install_script():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    stages = dockerfile.split("\nFROM ")
    assert len(stages) == 3, "a builder stage and a final stage"
    builder, final = stages[1], stages[2]
    assert builder.startswith("postgres:${PG_MAJOR}-bookworm AS builder")
    assert "./scripts/install.sh" in builder and "cargo pgrx package" in builder
    assert final.startswith("postgres:${PG_MAJOR}-bookworm")
    copies = [line for line in final.splitlines() if line.startswith("COPY")]
    assert all("--from=builder /src/target/release/user_metrics-pg" in c or "docker/initdb/" in c for c in copies)
    assert "RUN" not in final, "the final stage only adds files"


def test_the_image_init_script_creates_a_healthy_extension(dsn):
    url = fresh_database(dsn, "user_metrics_docker_init", with_extension=False)
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    for script in sorted((ROOT / "docker" / "initdb").glob("*.sql")):
        # The way the postgres image's entrypoint runs its init scripts.
        run = subprocess.run([pg_bin("psql"), "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--username", "postgres",
                              "--dbname", name, "-f", script], env=tool_env(dsn), capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert "ok" in run.stdout
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'user_metrics'").fetchone() == (VERSION,)


def healthcheck(dsn, database):
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    kind, command = compose["services"]["db"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    # Compose turns $$ into $ before the container's shell sees the command.
    command = command.replace("$$", "$")
    env = {**tool_env(dsn), "POSTGRES_USER": "postgres", "POSTGRES_DB": database,
           "PATH": str(Path(pg_bin("psql")).parent) + ":" + os.environ["PATH"]}
    return subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)


def test_the_compose_healthcheck_passes_only_with_a_healthy_extension(dsn):
    fresh_database(dsn, "user_metrics_healthy", with_extension=True)
    fresh_database(dsn, "user_metrics_missing", with_extension=False)
    ok = healthcheck(dsn, "user_metrics_healthy")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert healthcheck(dsn, "user_metrics_missing").returncode != 0


def test_the_debian_package_is_installed_and_used(dsn):
    deb = os.environ.get("USER_METRICS_TEST_DEB")
    assert deb, "USER_METRICS_TEST_DEB is not set: run through scripts/test.sh, which builds the package"
    fields = subprocess.run(["dpkg-deb", "--field", deb, "Package", "Version"], capture_output=True,
                            text=True, check=True).stdout.split()
    package = fields[1]
    assert fields[3] == VERSION
    status = subprocess.run(["dpkg-query", "-W", "-f", "${Status} ${Version}", package],
                            capture_output=True, text=True, check=True).stdout
    assert status == f"install ok installed {VERSION}"
    pkglibdir = subprocess.run(["pg_config", "--pkglibdir"], capture_output=True, text=True, check=True).stdout.strip()
    # This version's library, and the previous release's that its databases use
    # until their update.
    previous = deb_version(os.environ["USER_METRICS_TEST_PREVIOUS_DEB"])
    assert previous != VERSION
    for library in (f"user_metrics-{VERSION}.so", release_library(previous).replace("$libdir/", "") + ".so"):
        owner = subprocess.run(["dpkg", "-S", f"{pkglibdir}/{library}"], capture_output=True, text=True)
        assert owner.stdout.startswith(f"{package}:"), owner.stdout + owner.stderr
    url = fresh_database(dsn, "user_metrics_from_deb", with_extension=True)
    with psycopg.connect(url) as conn:
        health = conn.execute("SELECT user_metrics.health()").fetchone()[0]
    assert (health["status"], health["version"]) == ("ok", VERSION)


def test_the_http_dockerfile_passes_hadolint_and_ships_only_the_binary():
    dockerfile = ROOT / "docker" / "http.Dockerfile"
    run = subprocess.run([BIN / "hadolint", dockerfile], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    stages = dockerfile.read_text().split("\nFROM ")
    assert len(stages) == 3, "a builder stage and a final stage"
    builder, final = stages[1], stages[2]
    assert "cargo build --release --locked -p user-metrics-http" in builder
    copies = [line for line in final.splitlines() if line.startswith("COPY")]
    assert copies == ["COPY --from=builder /src/target/release/user-metrics-http /usr/local/bin/user-metrics-http"]
    assert "\nUSER 10001" in final and "--uid 10001" in final, "not root"
    assert "USER_METRICS_HTTP_LISTEN=0.0.0.0:5001" in final


def test_the_compose_http_service_waits_for_a_healthy_database_and_is_local():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    http = compose["services"]["http"]
    assert http["build"]["dockerfile"] == "docker/http.Dockerfile"
    assert http["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert http["ports"] == ["127.0.0.1:${USER_METRICS_HTTP_PORT:-5001}:5001"]
    assert http["volumes"] == ["./http-tokens:/run/user-metrics-http/tokens:ro"]
    env = http["environment"]
    assert env["USER_METRICS_HTTP_TOKENS"] == "/run/user-metrics-http/tokens"
    assert "host=db " in env["USER_METRICS_HTTP_DATABASE"] and "user=user_metrics_http" in env["USER_METRICS_HTTP_DATABASE"]
    example = (ROOT / "docker" / ".env.example").read_text()
    for name in ["USER_METRICS_HTTP_PASSWORD", "USER_METRICS_HTTP_PORT"]:
        assert re.search(rf"^{name}=", example, re.M), name
    assert "docker/http-tokens" in (ROOT / ".gitignore").read_text()


def test_the_image_init_script_makes_the_http_login_role_with_no_rights_of_its_own(dsn):
    url = fresh_database(dsn, "user_metrics_docker_http", with_extension=True)
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS user_metrics_http")
    env = {**tool_env(dsn), "POSTGRES_USER": "postgres", "POSTGRES_DB": name,
           "USER_METRICS_HTTP_PASSWORD": "it's a secret",
           "PATH": str(Path(pg_bin("psql")).parent) + ":" + os.environ["PATH"]}
    script = ROOT / "docker" / "initdb" / "20-http-role.sh"
    try:
        run = subprocess.run(["bash", script], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT rolcanlogin, rolinherit, rolpassword IS NOT NULL FROM pg_authid "
                                "WHERE rolname = 'user_metrics_http'").fetchone() == (True, False, True)
            assert sorted(r[0] for r in conn.execute(
                "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.member "
                "JOIN pg_roles b ON b.oid = m.roleid WHERE a.rolname = 'user_metrics_http'")) == \
                ["user_metrics_reader", "user_metrics_writer"]
        with psycopg.connect(psycopg.conninfo.make_conninfo(url, user="user_metrics_http")) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT user_metrics.health()")
            conn.rollback()
            conn.execute("SET ROLE user_metrics_reader")
            assert conn.execute("SELECT user_metrics.health()->>'status'").fetchone() == ("ok",)
        # Without the password set, it refuses to run.
        unset = subprocess.run(["bash", script], env={k: v for k, v in env.items()
                                                        if k != "USER_METRICS_HTTP_PASSWORD"},
                               capture_output=True, text=True)
        assert unset.returncode != 0 and "USER_METRICS_HTTP_PASSWORD" in unset.stderr
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute("DROP ROLE IF EXISTS user_metrics_http")
