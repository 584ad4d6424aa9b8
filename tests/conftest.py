"""Shared test fixtures: the captured payloads in ../shared/fixtures, a loopback HTTP server
that serves bytes and faults, a temporary state dir, and a CLI runner."""

from __future__ import annotations

import os
import shlex
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("RESOLVER_FIXTURES", ROOT.parent / "shared" / "fixtures"))

# The SWE-bench history as polls at the commit times of the fixtures README, in UTC.
SWE_BENCH_HISTORY = [
    ("leaderboards.2025-05-07.json", "2025-05-07T09:39:00Z"),
    ("leaderboards.2025-07-31.json", "2025-07-31T16:33:00Z"),
    ("leaderboards.2025-09-10-bad-unit.json", "2025-09-10T21:09:00Z"),
    ("leaderboards.2025-09-10-fixed.json", "2025-09-10T21:28:00Z"),
    ("leaderboards.2025-11-18.json", "2025-11-18T21:53:00Z"),
    ("leaderboards.2025-12-10.json", "2025-12-11T04:08:00Z"),
    ("index.2026-02-26.html", "2026-02-26T21:20:00Z"),
]


def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        message = (f"the captured payloads are not at {FIXTURES}: clone resolver beside "
                   "'shared' (or set RESOLVER_FIXTURES)")
        if os.environ.get("CI"):
            pytest.fail(message + "; CI requires them", pytrace=False)
        pytest.skip(message)
    return FIXTURES


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback only: resolving any other host fails at once."""
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK and host not in (b"127.0.0.1", b"localhost"):
            raise socket.gaierror(f"tests do not reach the internet ({host})")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture
def fixtures() -> Path:
    return fixtures_dir()


@pytest.fixture
def swe_bench(fixtures: Path) -> Path:
    return fixtures / "swe-bench"


@pytest.fixture(scope="session")
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        yield running


@pytest.fixture
def http(server: FixtureServer) -> FixtureServer:
    server.reset()
    return server


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh state dir, and an environment with no RESOLVER_* settings but it."""
    for name in list(os.environ):
        if name.startswith("RESOLVER_"):
            monkeypatch.delenv(name)
    path = tmp_path / "state"
    monkeypatch.setenv("RESOLVER_STATE_DIR", str(path))
    monkeypatch.setenv("RESOLVER_HTTP_PORT", "0")
    return path


class Cli:
    """Runs the real command line in-process (``cli("poll", "swe-bench")``)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, expect: int | None = 0, **env: str) -> Result:
        from resolver.cli import cli

        argv = list(args) if len(args) != 1 else shlex.split(args[0])
        result = self.runner.invoke(cli, argv, env=env or None, catch_exceptions=True)
        if expect is not None and result.exit_code != expect:
            detail = result.output + (repr(result.exception) if result.exception else "")
            raise AssertionError(f"resolver {' '.join(argv)} exited {result.exit_code}, "
                                 f"expected {expect}:\n{detail}")
        return result

    def events(self, prediction_id: str) -> list[dict[str, Any]]:
        """A prediction's event log, as ``resolver show --json`` gives it."""
        import json

        events: list[dict[str, Any]] = json.loads(
            self("show", prediction_id, "--json").output)["events"]
        return events


@pytest.fixture
def cli(state_dir: Path) -> Cli:
    return Cli()


def only(*names: str) -> dict[str, str]:
    """Environment that disables every built-in source but ``names``: no test polls the
    internet."""
    import sources

    return {f"RESOLVER_SOURCES__{s.name.upper().replace('-', '_')}__ENABLED": "false"
            for s in sources.BUILTIN if s.name not in names}


def wait(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def resolver_command() -> list[str]:
    return [sys.executable, "-m", "resolver"]


def replay(cli: Any, folder: Path, history: list[tuple[str, str]], source: str) -> None:
    for name, at in history:
        cli("poll", source, "--from-file", str(folder / name), "--at", at)
