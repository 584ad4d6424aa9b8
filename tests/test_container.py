"""The image, built from the unchanged Dockerfile and run with podman against the loopback
fixture server. Runs in CI (which fails when podman cannot run); skipped elsewhere when
podman is absent."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from tests.conftest import ROOT, only, resolver_command, wait
from tests.server import FixtureServer

pytestmark = pytest.mark.container
IMAGE = "localhost/resolver:test"

PREDICTIONS = """
[[prediction]]
id = "mid-2025"
claim = "swe-bench-verified >= 85% by 2025-07-31"
"""


def podman(*args: str, timeout: float = 120,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], text=True, capture_output=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def image() -> str:
    if shutil.which("podman") is None:
        message = "podman is not installed (run ../shared/tools/podman-setup)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI requires the container tests", pytrace=False)
        pytest.skip(message)
    began = time.monotonic()
    podman("build", "--format", "docker", "--network=host", "-t", IMAGE, str(ROOT),
           timeout=900)
    size = int(podman("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip())
    print(f"\nimage built in {time.monotonic() - began:.0f} s, {size / 1e6:.0f} MB")
    return IMAGE


def rows(volume: Path, sql: str) -> list[tuple[object, ...]]:
    if not (volume / "resolver.db").exists():
        return []
    try:
        with sqlite3.connect(f"file:{volume / 'resolver.db'}?mode=ro", uri=True,
                             timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


@pytest.fixture
def run_container(image: str, tmp_path: Path, http: FixtureServer,
                  swe_bench: Path) -> Iterator[Callable[[], str]]:
    url = http.serve("/leaderboards.json",
                     (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    config = tmp_path / "config"
    config.mkdir()
    (config / "predictions.toml").write_text(PREDICTIONS)
    volume = tmp_path / "data"
    volume.mkdir()
    # A successful poll a day ago: a store's first digest is the one after its first
    # successful poll (DESIGN section 8), so the first start writes today's.
    yesterday = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))
    subprocess.run([*resolver_command(), "poll", "swe-bench", "--from-file",
                    str(swe_bench / "leaderboards.2025-07-31.json"), "--at", yesterday],
                   env={**os.environ, **only("swe-bench"), "RESOLVER_STATE_DIR": str(volume)},
                   check=True, capture_output=True, timeout=60)
    names: list[str] = []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def run() -> str:
        name = f"resolver-test-{uuid.uuid4().hex[:8]}"
        podman("run", "-d", "--name", name, "--network=host",
               "-v", f"{volume}:/data:U", "-v", f"{config}:/config:ro",
               "-e", f"RESOLVER_SOURCES__SWE_BENCH__URL={url}",
               *[arg for name, value in only("swe-bench").items()
                 for arg in ("-e", f"{name}={value}")],
               "-e", "RESOLVER_SOURCES__SWE_BENCH__EVERY=2s",
               "-e", "RESOLVER_PREDICTIONS_FILES=[\"/config/predictions.toml\"]",
               "-e", "RESOLVER_DIGEST_CRON=0 0 * * *",
               "-e", f"RESOLVER_HTTP_PORT={port}",
               "-e", "RESOLVER_API_TOKEN=token-for-the-test",
               image)
        names.append(name)
        return name

    run.volume = volume  # type: ignore[attr-defined]
    run.port = port  # type: ignore[attr-defined]
    yield run
    for name in names:
        podman("rm", "-f", name, check=False)


def test_image_runs_polls_writes_a_digest_and_stops_cleanly(
    run_container: Callable[[], str],
) -> None:
    volume: Path = run_container.volume  # type: ignore[attr-defined]
    name = run_container()
    assert wait(lambda: len(rows(volume, "SELECT id FROM fetches")) >= 2, 60), \
        podman("logs", name).stdout
    assert wait(lambda: any(volume.glob("digests/*.md")), 30)
    assert rows(volume, "SELECT id FROM predictions") == [("mid-2025",)]

    health = podman("exec", name, "resolver", "health", check=False)
    assert health.returncode == 0, health.stderr
    assert podman("healthcheck", "run", name, check=False).returncode == 0
    uid = podman("exec", name, "id", "-u").stdout.strip()
    assert uid != "0"
    # No pip or setuptools where the image controls it (the stand-in base used here carries
    # Debian's pip in /usr/bin; the official base keeps its pip in /usr/local, removed).
    probe = podman("exec", name, "/opt/resolver/bin/python", "-c",
                   "import importlib.util as u; print([m for m in ('pip', 'setuptools')"
                   " if u.find_spec(m)])").stdout.strip()
    assert probe == "[]"
    assert podman("exec", "--user", "0", name, "sh", "-c",
                  "ls /usr/local/bin/pip* /root/.cache 2>&1 || true"
                  ).stdout.count("No such file") == 2
    # The digest page, served by the daemon (the image listens on 0.0.0.0).
    base = f"http://127.0.0.1:{run_container.port}"  # type: ignore[attr-defined]
    assert httpx.get(base + "/healthz", timeout=5).text == "ok\n"
    assert wait(lambda: "Status board" in httpx.get(base + "/", timeout=5).text, 30)
    assert "mid-2025" in httpx.get(base + "/p/mid-2025.html", timeout=5).text
    assert "<h1>Digests</h1>" in httpx.get(base + "/digests/", timeout=5).text
    # Registration over HTTP, with the token (DESIGN 13): one curl, stored at once.
    made = httpx.post(base + "/api/predictions", timeout=10,
                      json={"id": "http-90", "claim": "swe-bench-verified >= 90% by 2030"},
                      headers={"Authorization": "Bearer token-for-the-test"})
    assert made.status_code == 201, made.text
    assert httpx.post(base + "/api/predictions", timeout=10, json={"id": "x", "claim": "c"},
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert not feedparser.parse(httpx.get(base + "/feed.atom", timeout=5).content).bozo
    assert [p["id"] for p in httpx.get(base + "/api/predictions", timeout=5).json()] == [
        "mid-2025", "http-90"]
    rss = podman("exec", name, "sh", "-c", "grep VmRSS /proc/1/status").stdout.split()[1]
    print(f"\ndaemon idle RSS after its first cycle: {int(rss) / 1024:.0f} MB")

    began = time.monotonic()
    podman("stop", "-t", "10", name, timeout=30)
    stopped = time.monotonic() - began
    state = json.loads(podman("inspect", name).stdout)[0]["State"]
    assert state["ExitCode"] == 0 and stopped < 10
    logs = podman("logs", name).stdout
    assert "poll source=swe-bench" in logs and "stop clean=True" in logs

    # A second container on the same volume continues from the stored state.
    events = rows(volume, "SELECT * FROM events")
    digests = rows(volume, "SELECT date FROM digests")
    fetches = len(rows(volume, "SELECT id FROM fetches"))
    second = run_container()
    assert wait(lambda: len(rows(volume, "SELECT id FROM fetches")) >= fetches + 2, 60)
    podman("stop", "-t", "10", second, timeout=30)
    assert rows(volume, "SELECT * FROM events") == events
    assert rows(volume, "SELECT date FROM digests") == digests and len(digests) == 1
    assert rows(volume, "SELECT count(*) FROM predictions") == [(2,)]
    assert rows(volume, "SELECT count(*) FROM payloads") == [(1,)]
