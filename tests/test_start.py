"""Start order and the first digest (DESIGN section 8), and the store as others copy it while
the daemon runs (DESIGN section 7: a WAL checkpoint after each poll, ``resolver backup``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from resolver import digest
from resolver.settings import load
from state.db import open_db
from tests.conftest import Cli, only, resolver_command, wait
from tests.server import FixtureServer

PREDICTIONS = """
[[prediction]]
id = "sixty"
claim = "swe-bench-verified >= 60% by 2026-12-31"
"""


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    try:
        with sqlite3.connect(path, timeout=10) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not created or not migrated yet


def tables(path: Path) -> set[object]:
    return {name for (name,) in query(path, "SELECT name FROM sqlite_master"
                                            " WHERE type IN ('table', 'view')")}


def test_first_digest_is_the_one_after_the_first_successful_poll(
        cli: Cli, swe_bench: Path, state_dir: Path) -> None:
    settings = load()
    db = open_db(settings.state_dir)
    ten = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # after the 06:30 digest time
    assert digest.due_dates(db, settings, now=ten, catch_up=True) == []  # never polled
    cli("poll", "swe-bench", "--from-file", str(swe_bench / "leaderboards.2025-05-07.json"),
        "--at", "2026-03-10T10:00Z")
    for catch_up in (True, False):
        # The window that ended at 06:30 was not watched: no quiet digest for it.
        assert digest.due_dates(db, settings, now=ten + dt.timedelta(hours=2),
                                catch_up=catch_up) == []
        # The next morning's is the first.
        assert digest.due_dates(db, settings, now=dt.datetime(2026, 3, 11, 7, tzinfo=dt.UTC),
                                catch_up=catch_up) == [dt.date(2026, 3, 11)]
    # A failed poll is no first poll.
    cold = open_db(state_dir.parent / "cold")
    cold.execute("INSERT INTO fetches (source, at, recorded_at, status, error) VALUES"
                 " ('swe-bench', '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z', 'failed', 'x')")
    assert digest.due_dates(cold, settings, now=ten, catch_up=True) == []


def test_run_once_on_a_new_store_writes_no_digest_for_a_window_before_its_first_poll(
        cli: Cli, http: FixtureServer, swe_bench: Path, state_dir: Path) -> None:
    env = {"RESOLVER_SOURCES__SWE_BENCH__URL": http.url("/lb.json"),
           "RESOLVER_DIGEST_CRON": "0 0 * * *", **only("swe-bench")}
    cli("run", "--once", expect=3, **env)  # down: nothing polled successfully
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    result = cli("run", "--once", **env)  # today's 00:00 is before this first poll
    assert "status=ok" in result.output and "digest date=" not in result.output
    assert not (state_dir / "digests").exists()
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    settings = load({"RESOLVER_STATE_DIR": str(state_dir), "RESOLVER_DIGEST_CRON": "0 0 * * *"})
    due = digest.due_dates(open_db(state_dir), settings,
                           now=tomorrow.replace(hour=0, minute=1), catch_up=False)
    assert due == [tomorrow.date()]


@pytest.fixture
def daemon(state_dir: Path, tmp_path: Path, http: FixtureServer,
           swe_bench: Path) -> Iterator[dict[str, str]]:
    """A running ``resolver run``; yields its environment (the loopback hook is /hook)."""
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    predictions = tmp_path / "predictions.toml"
    predictions.write_text(PREDICTIONS)
    env = {**os.environ, **only("swe-bench"),
           "RESOLVER_SOURCES__SWE_BENCH__URL": http.url("/lb.json"),
           "RESOLVER_SOURCES__SWE_BENCH__EVERY": "1s", "RESOLVER_HEARTBEAT_EVERY": "1s",
           "RESOLVER_PREDICTIONS_FILES": json.dumps([str(predictions)]),
           "RESOLVER_DIGEST_CRON": "0 0 * * *",  # fired today, before the start
           "RESOLVER_NOTIFY": json.dumps([http.url("/hook").replace("http://", "json://")])}
    process = subprocess.Popen([*resolver_command(), "run"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield env
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output


def test_a_first_start_polls_and_alerts_but_writes_no_quiet_digest(
        daemon: dict[str, str], state_dir: Path, http: FixtureServer) -> None:
    db = state_dir / "resolver.db"
    assert wait(lambda: len(query(db, "SELECT id FROM fetches")) >= 3, 30)
    # The first alerts reflect the first polls.
    titles = [p["body"]["title"] for p in http.posts]
    assert "resolver: sixty open -> provisional" in titles
    assert not any(title.startswith("resolver digest") for title in titles)
    assert query(db, "SELECT date FROM digests") == []
    assert not (state_dir / "digests").exists()


def test_a_copy_of_resolver_db_alone_has_every_table_while_the_daemon_runs(
        daemon: dict[str, str], state_dir: Path, tmp_path: Path) -> None:
    db = state_dir / "resolver.db"
    assert wait(lambda: len(query(db, "SELECT id FROM fetches")) >= 2, 30)
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)  # the main file only, no -wal
    assert tables(copy) == tables(db) and {"fetches", "events", "change_alerts"} <= tables(copy)
    assert query(copy, "SELECT count(*) FROM observations") == [(247,)]
    assert query(copy, "SELECT id FROM predictions") == [("sixty",)]


def test_backup_makes_a_consistent_copy_while_the_daemon_runs(
        daemon: dict[str, str], state_dir: Path, tmp_path: Path) -> None:
    from resolver.cli import _Context
    from resolver.cli_backup import backup
    from resolver.errors import ResolverError

    db = state_dir / "resolver.db"
    assert wait(lambda: len(query(db, "SELECT id FROM fetches")) >= 2, 30)
    target = tmp_path / "backup.db"
    result = CliRunner().invoke(backup, [str(target)], obj=_Context(False))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"backed up {db} to {target} (")
    assert query(target, "PRAGMA integrity_check") == [("ok",)]
    assert query(target, "PRAGMA journal_mode") == [("delete",)]
    assert tables(target) == tables(db)
    assert query(target, "SELECT count(*) FROM observations") == [(247,)]
    assert not (tmp_path / "backup.db.partial").exists()
    # Never over an existing file; a missing folder is one line.
    again = CliRunner().invoke(backup, [str(target)], obj=_Context(False))
    assert isinstance(again.exception, ResolverError)
    assert "already exists" in str(again.exception)
    missing = CliRunner().invoke(backup, [str(tmp_path / "no" / "b.db")], obj=_Context(False))
    assert isinstance(missing.exception, ResolverError)
