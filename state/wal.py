"""The write-ahead log and copies of the store (DESIGN section 7): a checkpoint after each
poll, so that the main file alone has every table and (unless a reader holds the log back)
every committed poll; and a consistent copy at any time through SQLite's backup API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from state.db import Database


def checkpoint(db: Database) -> tuple[int, int, int]:
    """Copy committed pages from the log into the main file without waiting for anyone
    (PASSIVE: a reader in the way only shortens it). Returns SQLite's (busy, log pages,
    pages checkpointed)."""
    busy, pages, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(pages), int(done)


def backup(db: Database, target: Path) -> int:
    """Copy the store to ``target`` (a new file) as of one moment, while others read and
    write it; the copy is a plain database, not in WAL mode. Returns its size in bytes."""
    copy = sqlite3.connect(target)
    try:
        db.conn.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()
    return target.stat().st_size
