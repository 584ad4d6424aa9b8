"""Faults of time: backdated polls of another source, concurrent writers, dates after the
poll. DESIGN section 4: the ``at`` of a prediction's events never decreases."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, Cli, fixtures_dir, only
from tests.payloads import Payloads, filler, payload, row
from tests.server import FixtureServer


def statuses(cli: Cli, prediction_id: str) -> list[tuple[Any, ...]]:
    return [(e["to_status"], e["outcome"], e["at"]) for e in cli.events(prediction_id)
            if e["kind"] == "status"]


def in_order(db_path: Path) -> tuple[list[str], list[str]]:
    """Predictions whose events go back in time, and sources whose polls do (by row id)."""
    with sqlite3.connect(db_path) as conn:
        events = conn.execute("SELECT prediction_id, at FROM events ORDER BY id").fetchall()
        fetches = conn.execute("SELECT source, at FROM fetches ORDER BY id").fetchall()
    def backwards(pairs: list[tuple[str, str]]) -> list[str]:
        latest: dict[str, str] = {}
        found = []
        for name, at in pairs:
            if at < latest.get(name, ""):
                found.append(f"{name} at {at} after {latest[name]}")
            latest[name] = max(at, latest.get(name, ""))
        return found
    return backwards(events), backwards(fetches)


def test_a_backdated_poll_of_another_source_moves_nothing(cli: Cli) -> None:
    fixtures = fixtures_dir()
    cli("predict", "add", "swe-bench-verified >= 70% by 2026", "--id", "swe-70")
    cli("poll", "swe-bench", "--from-file",
        str(fixtures / "swe-bench" / "leaderboards.2025-07-31.json"), "--at", "2025-09-01T00:00Z")
    before = statuses(cli, "swe-70")
    assert before == [("provisional", "yes", "2025-09-01T00:00:00Z")]
    cli("poll", "metr", "--from-file",
        str(fixtures / "metr" / "benchmark_results_1_1.2026-01-30.yaml"),
        "--at", "2025-08-15T00:00Z")
    assert statuses(cli, "swe-70") == before
    # Time-driven changes still apply once a poll of any source is later than the event.
    cli("poll", "metr", "--from-file",
        str(fixtures / "metr" / "benchmark_results_1_1.2026-01-30.yaml"),
        "--at", "2025-09-20T00:00Z")
    assert statuses(cli, "swe-70") == before  # confirmation needs 2 swe-bench polls


def test_a_baseline_frozen_at_registration_is_dated_at_its_sources_latest_poll(
        cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("poll", "swe-bench", "--from-file", write(filler(5) + [row("20250401_a", 40.0,
                                                                   "2025-04-01")]),
        "--at", "2025-05-01T00:00Z")
    cli("predict", "add", "swe-bench-verified >= 2x sota@2025-04 by 2025-12-31", "--id", "p")
    baseline = cli.events("p")
    assert [(e["kind"], e["at"]) for e in baseline] == [("baseline", "2025-05-01T00:00:00Z")]
    # A replay continuing after that poll still moves the prediction, in time order.
    cli("poll", "swe-bench", "--from-file", write(filler(5) + [row("20250601_b", 81.0,
                                                                   "2025-06-01")]),
        "--at", "2025-06-02T00:00Z")
    assert statuses(cli, "p") == [("provisional", "yes", "2025-06-02T00:00:00Z")]


def test_a_poll_earlier_than_the_last_is_one_line(cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("poll", "swe-bench", "--from-file", write(filler(5)), "--at", "2025-06-02T00:00Z")
    result = cli("poll", "swe-bench", "--from-file", write(filler(5)), "--at",
                 "2025-06-01T00:00Z", expect=1)
    assert result.output.strip().splitlines() == [
        "error: swe-bench was last polled at 2025-06-02T00:00:00Z; a poll at "
        "2025-06-01T00:00:00Z would go back in time (replay files in date order)"]


def test_a_result_dated_after_its_poll_never_qualifies(cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("predict", "add", "swe-bench-verified >= 80% by 2030", "--id", "p")
    path = write(filler(5) + [row("20290101_future", 90.0, "2029-01-01")])
    result = cli("poll", "swe-bench", "--from-file", path, "--at", "2025-06-02T00:00Z")
    assert "result date 2029-01-01 is after the poll" in result.output
    assert statuses(cli, "p") == []
    # The next day is still fine (a result published in a later time zone).
    path = write(filler(5) + [row("20250604_soon", 90.0, "2025-06-04")])
    cli("poll", "swe-bench", "--from-file", path, "--at", "2025-06-03T00:00Z")
    assert statuses(cli, "p") == [("provisional", "yes", "2025-06-03T00:00:00Z")]


def test_concurrent_writers_never_record_time_out_of_order(state_dir: Path,
                                                             http: FixtureServer,
                                                             tmp_path: Path) -> None:
    """Live polls of one source racing (slow and fast responses), backdated replays of
    another and evaluations, all in separate processes on one store: every source's polls
    and every prediction's events stay in time order."""
    fixtures = fixtures_dir()
    env = {**os.environ, **only("swe-bench"), "RESOLVER_STATE_DIR": str(state_dir),
           "RESOLVER_SOURCES__SWE_BENCH__URL": http.url("/swe.json"),
           "RESOLVER_HTTP_TIMEOUT": "10s", "PYTHONPATH": str(ROOT)}
    rows = [row(f"2025060{i % 9 + 1}_r{i}", 50.0 + i / 10, "2025-06-01") for i in range(300)]
    http.serve("/swe.json", payload(rows), etag=False)
    python = [sys.executable, "-m", "resolver"]
    ids = [f"p{n}" for n in range(40)]
    file = tmp_path / "predictions.toml"
    file.write_text("".join(
        f'[[prediction]]\nid = "{pid}"\nclaim = "swe-bench-verified >= {50 + n * 0.7:.1f}% '
        f'by 2030"\n' for n, pid in enumerate(ids)) + "".join(
        f'[[prediction]]\nid = "m{n}"\nclaim = "metr-p50-horizon >= {n * 10 + 5}min by 2030"\n'
        for n in range(10)), encoding="utf-8")
    subprocess.run([*python, "predict", "import", str(file)], env=env, check=True,
                   capture_output=True)
    metr = sorted((fixtures / "metr").glob("benchmark_results_1_1.*.yaml"))
    for _trial in range(3):
        http.fault("/swe.json", "sleep:0.8", "sleep:0.1")
        writers = [subprocess.Popen([*python, "poll", "swe-bench"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                   for _ in range(3)]
        time.sleep(0.05)
        writers += [subprocess.Popen([*python, "evaluate"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)]
        for writer in writers:
            _, err = writer.communicate(timeout=60)
            assert writer.returncode == 0, err.decode()
    for index, path in enumerate(metr):  # backdated replays of another source
        subprocess.run([*python, "poll", "metr", "--from-file", str(path), "--at",
                        f"2025-0{index + 1}-01T00:00Z"], env=env, check=True,
                       capture_output=True)
    events_back, polls_back = in_order(state_dir / "resolver.db")
    assert events_back == []
    assert polls_back == []
    with sqlite3.connect(state_dir / "resolver.db") as conn:
        polls = conn.execute("SELECT count(*) FROM fetches WHERE source = 'swe-bench'"
                             ).fetchone()[0]
        moved = conn.execute("SELECT count(DISTINCT prediction_id) FROM events").fetchone()[0]
    assert polls == 9
    assert moved >= 40  # every swe-bench claim crossed; the backdated METR polls moved none
    listing = subprocess.run([*python, "predict", "list", "--json"], env=env, check=True,
                             capture_output=True).stdout
    swe = [p for p in json.loads(listing) if p["id"].startswith("p")]
    assert {p["status"] for p in swe} <= {"provisional", "resolved"}
