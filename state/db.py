"""Opening the store: one SQLite file, WAL, a busy timeout, migrations at open.

Writers use ``write(db)``, a ``BEGIN IMMEDIATE`` transaction: it takes the write lock at
the start, so the daemon and CLI commands wait for each other (up to the busy timeout)
instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DB_NAME = "resolver.db"
BUSY_TIMEOUT_MS = 30_000
# The number of migrations in state/migrations.py, stamped as the file's user_version once
# they are applied: a store at this version opens without importing sqlite-utils.
SCHEMA_VERSION = 8


class Database:
    """The store's connection. The code speaks SQL through ``execute``; sqlite-utils (its
    migrations) is imported only when a store is created or upgraded."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.writing = False  # inside ``write(db)``: the store's write lock is held
        self.on_rollback: list[Callable[[], None]] = []  # run if this write rolls back
        # What this write knows of the event log, read at its first append (state.predictions):
        # the last event's (id, hash), which the next one links to, and the latest event time.
        self.chain_tail: tuple[int, str] | None = None
        self.events_latest: str | None = None
        # The JSON texts this write stored, by the object they are of: the claims that move
        # together mostly share one piece of evidence (kept with it, so its id stays its own).
        self.texts: dict[int, tuple[object, str]] = {}
        # Event counts per prediction, read or moved by this write (state.predictions).
        self.seqs: dict[str, int] = {}

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, parameters)

    def table_names(self) -> list[str]:
        return [name for (name,) in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


class StoreError(Exception):
    """The store cannot be opened or written: a state dir that cannot be read or written, a
    file that is not a database or is malformed, a full disk. Names the path and the problem;
    nothing is overwritten."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def open_db(state_dir: Path) -> Database:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(state_dir, f"cannot create the state directory: "
                                    f"{error.strerror}") from None
    path = state_dir / DB_NAME
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn)
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            migrate(db)
    except sqlite3.Error as error:
        raise StoreError(path, describe(error)) from None
    return db


def migrate(db: Database) -> None:
    """Apply the pending migrations, under the write lock so that two processes starting
    together migrate once, and stamp the schema version."""
    import sqlite_utils

    from state.migrations import migrations

    with write(db):
        full = sqlite_utils.Database(db.conn)
        if migrations.pending(full):
            migrations.apply(full)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def describe(error: sqlite3.Error) -> str:
    """What a user should read for an SQLite error."""
    text = str(error)
    if "not a database" in text:
        return "not a resolver database (file is not a database); nothing was changed"
    if "malformed" in text:
        return ("the database is damaged (database disk image is malformed); restore it from"
                " a backup")
    if "readonly" in text or "unable to open" in text:
        return f"cannot write the database ({text}): check the state dir's permissions"
    return text


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """One write transaction, taken with ``BEGIN IMMEDIATE``; nested calls join it."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    db.writing = True
    try:
        yield db
        conn.execute("COMMIT")
    except BaseException:
        for undo in db.on_rollback:  # while the write lock is still held
            undo()
        # SQLite may have rolled back already (a full disk): never hide the real error
        # behind "cannot rollback - no transaction is active".
        if _still_open(conn):
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    finally:
        db.writing = False
        db.on_rollback.clear()
        db.chain_tail = db.events_latest = None
        db.texts.clear()
        db.seqs.clear()


def _still_open(conn: sqlite3.Connection) -> bool:
    return conn.in_transaction
