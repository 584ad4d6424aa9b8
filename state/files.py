"""The ``predictions_file_checks`` table: each change of a predictions file's state (its
error, or NULL once it loads again), append-only so that past digests render the same."""

from __future__ import annotations

from dataclasses import dataclass

from state.db import Database, write


@dataclass(frozen=True)
class FileProblem:
    path: str
    since: str
    error: str


def record(db: Database, path: str, error: str | None, *, at: str) -> bool:
    """Remember a file's state if it changed; True if it did (log it once per change)."""
    last = db.execute("SELECT error FROM predictions_file_checks WHERE path = ?"
                      " ORDER BY id DESC LIMIT 1", [path]).fetchone()
    if (last is None and error is None) or (last is not None and last[0] == error):
        return False
    with write(db):
        db.execute("INSERT INTO predictions_file_checks (path, at, error) VALUES (?, ?, ?)",
                   [path, at, error])
    return True


def problems(db: Database, end: str) -> list[FileProblem]:
    """The files being skipped at ``end``, with the error that skips them."""
    return [FileProblem(path, at, error) for path, at, error in db.execute(
        "SELECT path, at, error FROM predictions_file_checks c WHERE id = (SELECT max(id)"
        " FROM predictions_file_checks WHERE path = c.path AND at < ?) ORDER BY path", [end])
        if error]
