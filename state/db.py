"""Opening the store: one SQLite file, WAL, a busy timeout, migrations at open.

Writers use ``write(db)``, a ``BEGIN IMMEDIATE`` transaction: it takes the write lock at
the start, so the daemon and CLI commands wait for each other (up to the busy timeout)
instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from state.migrations import migrations

DB_NAME = "resolver.db"
BUSY_TIMEOUT_MS = 30_000


def open_db(state_dir: Path) -> Database:
    state_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        state_dir / DB_NAME, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = Database(conn)
    if migrations.pending(db):
        # Under the write lock, so that two processes starting together migrate once.
        with write(db):
            migrations.apply(db)
    return db


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """One write transaction, taken with ``BEGIN IMMEDIATE``; nested calls join it."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
