"""The README's curl examples (section "HTTP API"), run as written, in order, on
an empty database, against the test server: each must print the output the
README shows after it. Only the address changes (localhost:5001 is the
default; the test server has a port of its own)."""
import json
import os
import re
import subprocess

from conftest import ROOT


def examples():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## HTTP API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    pairs = []
    for i, (language, text) in enumerate(blocks):
        if language == "sh" and text.startswith("curl "):
            assert i + 1 < len(blocks) and blocks[i + 1][0] == "", f"no output shown after:\n{text}"
            pairs.append((text, blocks[i + 1][1]))
    return pairs


def same_output(got, expected):
    try:
        return json.loads(got) == json.loads(expected)
    except json.JSONDecodeError:
        return got.strip() == expected.strip()


def test_the_readme_curl_examples_print_what_the_readme_shows(server, db):
    pairs = examples()
    assert len(pairs) >= 8, "every route, a refusal of each kind"
    env = {**os.environ, "WRITER_TOKEN": server.tokens["user_metrics_writer"],
           "READER_TOKEN": server.tokens["user_metrics_reader"]}
    port = server.url.rsplit(":", 1)[1]
    routes = set()
    for command, expected in pairs:
        assert "localhost:5001" in command
        routes.update(re.findall(r"localhost:5001(/[a-z]+)", command))
        run = subprocess.run(["bash", "-c", command.replace("localhost:5001", f"127.0.0.1:{port}")],
                             env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, command + run.stderr
        assert same_output(run.stdout, expected), f"{command}\nprinted:\n{run.stdout}\nREADME shows:\n{expected}"
    assert routes == {"/health", "/ingest", "/users", "/sessions", "/reports", "/openapi"}
