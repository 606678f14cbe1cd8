"""./scripts/demo.sh, run as written (its cluster and server on ports of the
tests, its files in a folder of their own), ends by printing the dashboard's
address and a reader token; in Chromium, that address and token show the demo
data's charts."""
import os
import subprocess
from pathlib import Path

from conftest import PORT, ROOT, wait_until

DEMO_PORT = PORT + 6
DEMO_HTTP_PORT = PORT + 7


def test_the_demo_ends_with_the_dashboard_s_address_and_a_reader_token(browser):
    run_dir = Path(os.environ.get("USER_METRICS_RUN_DIR", "/var/tmp/user_metrics")) / "demo-of-the-http-tests"
    run_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(run_dir, 0o755)
    env = {**os.environ, "USER_METRICS_RUN_DIR": str(run_dir), "DEMO_PORT": str(DEMO_PORT),
           "DEMO_HTTP_PORT": str(DEMO_HTTP_PORT)}
    try:
        run = subprocess.run([ROOT / "scripts" / "demo.sh"], env=env, capture_output=True, text=True, timeout=1200)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        address, token = run.stdout.rstrip().splitlines()[-2:]
        address = address.strip()
        assert address.startswith(f"http://localhost:{DEMO_HTTP_PORT}/dashboard?"), address
        token = token.strip().removeprefix("reader token: ")
        assert token.startswith("umt_") and len(token) == 68, token

        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(address)
        page.fill("#token", token)
        page.click("#login-form button[type=submit]")
        wait_until(page, "window.dashboard.status === 'ready'")
        # The sample's weeks: a week of top users, 21 days of activity.
        assert len(page.evaluate("window.dashboard.charts.weekly.data[0]")) >= 5
        assert len(page.evaluate("window.dashboard.charts.activity.data[0]")) == 21
        assert sum(page.evaluate("window.dashboard.charts.activity.data[2]")) >= 50
        assert page.evaluate("window.dashboard.charts.sessions.data[0].length") >= 1
        page.close()
    finally:
        subprocess.run([ROOT / "scripts" / "http_server.sh", "stop", "demo"], env=env, capture_output=True)
        subprocess.run([ROOT / "scripts" / "cluster.sh", "remove", "demo"], env=env, capture_output=True)
