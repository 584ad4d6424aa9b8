"""The daemon as a real process against the loopback server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import only, resolver_command, wait
from tests.server import FixtureServer

PREDICTIONS = """
[[prediction]]
id = "mid-2025"
claim = "swe-bench-verified >= 85% by 2025-07-31"
"""


def query(state: Path, sql: str) -> list[tuple[object, ...]]:
    if not (state / "resolver.db").exists():
        return []
    with sqlite3.connect(state / "resolver.db", timeout=10) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # not migrated yet


@pytest.fixture
def daemon_env(state_dir: Path, tmp_path: Path, http: FixtureServer,
               swe_bench: Path) -> dict[str, str]:
    body = (swe_bench / "leaderboards.2025-07-31.json").read_bytes()
    url = http.serve("/leaderboards.json", body)
    predictions = tmp_path / "predictions.toml"
    predictions.write_text(PREDICTIONS)
    return {
        **os.environ,
        **only("swe-bench"),
        "RESOLVER_SOURCES__SWE_BENCH__URL": url,
        "RESOLVER_SOURCES__SWE_BENCH__EVERY": "1s",
        "RESOLVER_HEARTBEAT_EVERY": "1s",
        "RESOLVER_PREDICTIONS_FILES": json.dumps([str(predictions)]),
        "RESOLVER_HTTP_TIMEOUT": "30s",
    }


@pytest.fixture
def start(daemon_env: dict[str, str]) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def run() -> subprocess.Popen[str]:
        process = subprocess.Popen([*resolver_command(), "run"], env=daemon_env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def stop(process: subprocess.Popen[str]) -> tuple[int, float, str]:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)
    return process.returncode, time.monotonic() - began, output


def test_daemon_polls_records_is_healthy_and_stops_on_sigterm(
    start: Callable[[], subprocess.Popen[str]], daemon_env: dict[str, str], state_dir: Path,
    http: FixtureServer,
) -> None:
    process = start()
    assert wait(lambda: len(query(state_dir, "SELECT id FROM fetches")) >= 3, 20), \
        "the daemon did not poll three times"
    statuses = [s for (s,) in query(state_dir, "SELECT status FROM fetches ORDER BY id")]
    assert statuses[0] == "ok" and set(statuses[1:]) == {"unchanged"}
    # Conditional requests after the first one, with our User-Agent.
    hits = http.hits("/leaderboards.json")
    assert "If-None-Match" not in hits[0]["headers"]
    assert hits[1]["headers"]["If-None-Match"].startswith('"')
    assert hits[0]["headers"]["User-Agent"].startswith("resolver/")
    assert query(state_dir, "SELECT id FROM predictions") == [("mid-2025",)]

    health = subprocess.run([*resolver_command(), "health"], env=daemon_env, text=True,
                            capture_output=True, timeout=30)
    assert health.returncode == 0, health.stderr
    assert health.stdout.startswith("healthy")

    code, seconds, output = stop(process)
    assert code == 0 and seconds < 10, output
    assert "poll source=swe-bench" in output and "stop clean=True" in output


def test_restart_continues_from_stored_state(
    start: Callable[[], subprocess.Popen[str]], state_dir: Path, http: FixtureServer,
    swe_bench: Path,
) -> None:
    first = start()
    assert wait(lambda: len(query(state_dir, "SELECT id FROM fetches")) >= 2, 20)
    assert stop(first)[0] == 0
    payloads = query(state_dir, "SELECT count(*) FROM payloads")
    events = query(state_dir, "SELECT * FROM events")
    before = len(query(state_dir, "SELECT id FROM fetches"))

    second = start()
    assert wait(lambda: len(query(state_dir, "SELECT id FROM fetches")) >= before + 2, 20)
    assert stop(second)[0] == 0
    # The same payload again: nothing new stored, no duplicate event, no second registration.
    assert query(state_dir, "SELECT count(*) FROM payloads") == payloads
    assert query(state_dir, "SELECT * FROM events") == events
    assert query(state_dir, "SELECT count(*) FROM predictions") == [(1,)]
    assert query(state_dir, "SELECT count(*) FROM observations") == [(247,)]


def test_sigterm_during_a_slow_fetch_still_exits_within_10s(
    start: Callable[[], subprocess.Popen[str]], state_dir: Path, http: FixtureServer,
) -> None:
    http.fault("/leaderboards.json", "sleep:25")
    process = start()
    assert wait(lambda: len(http.hits("/leaderboards.json")) >= 1, 20)
    time.sleep(0.5)
    code, seconds, output = stop(process)
    assert code == 0 and seconds < 10, output
    assert query(state_dir, "SELECT count(*) FROM fetches") == [(0,)]


def test_health_fails_without_a_daemon(daemon_env: dict[str, str]) -> None:
    health = subprocess.run([*resolver_command(), "health"], env=daemon_env, text=True,
                            capture_output=True, timeout=30)
    assert health.returncode == 1
    assert health.stderr.strip() == "unhealthy: no heartbeat yet (is `resolver run` running?)"


def test_cli_writes_while_the_daemon_polls(
    start: Callable[[], subprocess.Popen[str]], daemon_env: dict[str, str], state_dir: Path,
) -> None:
    process = start()
    assert wait(lambda: len(query(state_dir, "SELECT id FROM fetches")) >= 1, 20)
    writers = [
        subprocess.Popen([*resolver_command(), "predict", "add",
                          f"swe-bench-verified >= {70 + n}% by 2025-12-31", "--id", f"w{n}"],
                         env=daemon_env, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        for n in range(8)
    ]
    writers.append(subprocess.Popen([*resolver_command(), "evaluate"], env=daemon_env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert "locked" not in err
    code, _, output = stop(process)
    assert code == 0 and "job-failed" not in output
    assert len(query(state_dir, "SELECT id FROM predictions WHERE id LIKE 'w%'")) == 8
    # Each prediction's events are numbered without gaps or duplicates.
    for (prediction, count, top) in query(
            state_dir, "SELECT prediction_id, count(*), max(seq) FROM events GROUP BY 1"):
        assert count == top, prediction


def test_a_busy_http_port_is_one_clear_line(daemon_env: dict[str, str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**daemon_env, "RESOLVER_HTTP_PORT": str(taken.getsockname()[1])}
        result = subprocess.run([*resolver_command(), "run"], env=env, text=True,
                                capture_output=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot serve the digest page on 127.0.0.1:")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_a_bad_predictions_file_is_skipped_and_reported(
    daemon_env: dict[str, str], tmp_path: Path, state_dir: Path,
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[prediction]]\nid = "x"\nclaim = "swe-bench-verified >= 85 by 2025"\n')
    files = json.loads(daemon_env["RESOLVER_PREDICTIONS_FILES"]) + [str(bad)]
    env = {**daemon_env, "RESOLVER_PREDICTIONS_FILES": json.dumps(files),
           "RESOLVER_DIGEST_CRON": "59 23 * * *"}
    once = subprocess.run([*resolver_command(), "run", "--once"], env=env, text=True,
                          capture_output=True, timeout=60)
    assert once.returncode == 0, once.stderr  # the good file registered, the bad one skipped
    assert "predictions-file" in once.stdout and "the threshold needs a unit" in once.stdout
    assert query(state_dir, "SELECT id FROM predictions") == [("mid-2025",)]
    digest = subprocess.run([*resolver_command(), "digest", "--stdout"], env=env, text=True,
                            capture_output=True, timeout=60).stdout
    assert f"predictions file {bad}: failing (skipped since" in digest.replace("\\", "")
    listed = subprocess.run([*resolver_command(), "sources"], env=env, text=True,
                            capture_output=True, timeout=60).stdout
    assert f"predictions file {bad}: skipped since" in listed
