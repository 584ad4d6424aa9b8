"""Faults of the state directory: read-only, not a database, damaged, a full disk. Each is
one line naming the path and the problem, exit 1, and nothing is overwritten (DESIGN 5)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, fixtures_dir


@contextlib.contextmanager
def mounted(folder: Path, options: str) -> Iterator[Path]:
    """A small tmpfs: a real read-only or full file system (needs root, as CI has)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs here ({done.stderr.strip()})"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI runs as root", pytrace=False)
        pytest.skip(reason)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


def test_a_read_only_state_dir(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               ) -> None:
    with mounted(tmp_path / "ro", "size=1m,ro") as folder:
        monkeypatch.setenv("RESOLVER_STATE_DIR", str(folder / "state"))
        line = one_line(cli("predict", "list", expect=1).output)
        assert line == (f"error: {folder / 'state'}: cannot create the state directory: "
                        "Read-only file system")
        monkeypatch.setenv("RESOLVER_STATE_DIR", str(folder))
        line = one_line(cli("predict", "list", expect=1).output)
        assert line.startswith(f"error: {folder / 'resolver.db'}: cannot write the database")


def test_a_file_that_is_not_a_database_is_left_alone(cli: Cli, state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    db = state_dir / "resolver.db"
    db.write_bytes(b"my notes, not a database\n" * 100)
    line = one_line(cli("predict", "list", expect=1).output)
    assert line == (f"error: {db}: not a resolver database (file is not a database); "
                    "nothing was changed")
    assert db.read_bytes() == b"my notes, not a database\n" * 100
    assert sorted(p.name for p in state_dir.iterdir()) == ["resolver.db"]


def test_a_damaged_database(cli: Cli, state_dir: Path) -> None:
    cli("predict", "add", "swe-bench-verified >= 85% by 2030", "--id", "a")
    db = state_dir / "resolver.db"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with db.open("r+b") as file:  # keep the header, garble the schema's page
        file.seek(100)
        file.write(b"\xff" * 3996)
    damaged = db.read_bytes()
    line = one_line(cli("predict", "list", expect=1).output)
    assert line == (f"error: {db}: the database is damaged (database disk image is "
                    "malformed); restore it from a backup")
    assert db.read_bytes() == damaged


def test_a_full_disk_is_one_line_and_keeps_what_was_there(cli: Cli, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    swe = fixtures_dir() / "swe-bench"
    with mounted(tmp_path / "full", "size=420k") as folder:
        monkeypatch.setenv("RESOLVER_STATE_DIR", str(folder))
        cli("predict", "import", "examples/ai-2027.toml")
        before = cli("predict", "list", "--json").output
        result = cli("poll", "swe-bench", "--from-file",
                     str(swe / "leaderboards.2025-12-10.json"), "--at", "2025-12-11T00:00Z",
                     expect=1)
        assert one_line(result.output) == (f"error: {folder / 'resolver.db'}: database or "
                                           "disk is full")
        assert cli("predict", "list", "--json").output == before
        # The database is whole: a smaller poll still fits and is ingested.
        cli("poll", "swe-bench", "--from-file", str(swe / "leaderboards.2025-05-07.json"),
            "--at", "2025-12-12T00:00Z", expect=None)
        assert "database disk image is malformed" not in cli("predict", "list").output


def test_a_full_disk_while_writing_a_digest_leaves_no_partial_file(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with mounted(tmp_path / "full", "size=800k") as folder:
        monkeypatch.setenv("RESOLVER_STATE_DIR", str(folder))
        cli("predict", "import", "examples/ai-2027.toml")
        digests = folder / "digests"
        digests.mkdir()
        (digests / "2025-06-03.md").write_text("the old digest\n", encoding="utf-8")
        filler = folder / "filler"
        with contextlib.suppress(OSError):  # fill the disk
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
            while os.write(fd, b"\0" * 4096):
                pass
        os.close(fd)
        line = one_line(cli("digest", "--date", "2025-06-03", expect=1).output)
        assert line.startswith(f"error: {digests}/2025-06-03.")
        assert line.endswith("No space left on device")
        assert (digests / "2025-06-03.md").read_text(encoding="utf-8") == "the old digest\n"
        assert not list(digests.glob("*.tmp"))
