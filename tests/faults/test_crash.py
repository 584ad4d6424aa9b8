"""kill -9 at any moment of a poll (fetch, parse, ingest, evaluation, commit): the database
passes integrity_check, holds either the whole poll or none of it, never a duplicate event,
and polling again gives exactly the events of a run that was never interrupted."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, fixtures_dir, only

PAYLOADS = [("leaderboards.2025-11-18.json", "2025-11-18T21:53:00Z"),
            ("leaderboards.2025-12-10.json", "2025-12-11T04:08:00Z")]


def environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOLVER_")}
    return {**env, **only("swe-bench"), "RESOLVER_STATE_DIR": str(state),
            "RESOLVER_HTTP_PORT": "0", "PYTHONPATH": str(ROOT)}


def resolver(state: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "resolver", *args], env=environment(state),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run(state: Path, *args: str) -> None:
    process = resolver(state, *args)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()


def events(state: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(state / "resolver.db") as conn:
        return conn.execute(
            "SELECT prediction_id, seq, kind, to_status, outcome, at, evidence FROM events"
            " ORDER BY prediction_id, seq").fetchall()


def check(state: Path) -> tuple[int, int]:
    """integrity_check, no duplicate events; (successful polls, events)."""
    with sqlite3.connect(state / "resolver.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT prediction_id || '/' || seq) FROM events"
        ).fetchone()
        assert total == distinct
        polls = conn.execute("SELECT count(*) FROM fetches WHERE status = 'ok'").fetchone()[0]
        # A snapshot is never half-ingested: every version belongs to a recorded poll whose
        # payload is archived.
        orphans = conn.execute(
            "SELECT count(*) FROM versions v LEFT JOIN fetches f ON f.id = v.fetch_id"
            " LEFT JOIN payloads p ON p.sha256 = f.sha256 WHERE p.sha256 IS NULL"
        ).fetchone()[0]
        assert orphans == 0
    return polls, total


def test_kill_9_at_any_moment_of_a_poll(tmp_path: Path) -> None:
    swe = fixtures_dir() / "swe-bench"
    predictions = tmp_path / "predictions.toml"
    predictions.write_text("".join(
        f'[[prediction]]\nid = "p{n}"\nclaim = "swe-bench-verified >= {40 + n * 0.02:.2f}% '
        f'by 2026"\n' for n in range(2000)), encoding="utf-8")
    registered = tmp_path / "registered"
    run(registered, "predict", "import", str(predictions))
    clean = tmp_path / "clean"
    shutil.copytree(registered, clean)
    started = time.monotonic()
    for name, at in PAYLOADS:
        run(clean, "poll", "swe-bench", "--from-file", str(swe / name), "--at", at)
    duration = (time.monotonic() - started) / len(PAYLOADS)
    expected = events(clean)
    assert len(expected) > 1500  # the polls move most of the 2,000 claims
    outcomes = set()
    for trial in range(8):
        state = tmp_path / f"trial-{trial}"
        shutil.copytree(registered, state)
        for index, (name, at) in enumerate(PAYLOADS):
            process = resolver(state, "poll", "swe-bench", "--from-file", str(swe / name),
                               "--at", at)
            if index == trial % 2:  # kill one of the two polls, at a spread of moments
                time.sleep(duration * (0.3 + 0.12 * trial))
                process.send_signal(signal.SIGKILL)
            process.communicate(timeout=120)
            polls, _ = check(state)
            outcomes.add((index, polls > index))
            if polls <= index:  # the kill came before the commit: poll again
                run(state, "poll", "swe-bench", "--from-file", str(swe / name), "--at", at)
                check(state)
        assert events(state) == expected
    # Kills landed before a commit (the poll was redone) for both polls.
    assert {(0, False), (1, False)} <= outcomes
