"""The ``digests`` table: which dates were written, with the event chain's head then, and
which were notified."""

from __future__ import annotations

from state.chain import Head
from state.db import Database, write


def written_dates(db: Database) -> list[str]:
    return [d for (d,) in db.execute("SELECT date FROM digests ORDER BY date")]


def is_written(db: Database, date: str) -> bool:
    return db.execute("SELECT 1 FROM digests WHERE date = ?", [date]).fetchone() is not None


def mark_written(db: Database, date: str, *, window_from: str | None, window_to: str,
                 at: str, chain: Head | None = None) -> None:
    db.execute("INSERT INTO digests (date, window_from, window_to, written_at, chain_events,"
               " chain_head) VALUES (?, ?, ?, ?, ?, ?)",
               [date, window_from or "", window_to, at, chain.events if chain else None,
                chain.hash if chain else None])


def chain_when_written(db: Database, date: str) -> Head | None:
    """The chain head stored when ``date`` was first written (None: not written)."""
    row = db.execute("SELECT chain_events, chain_head FROM digests WHERE date = ?",
                     [date]).fetchone()
    if row is None or row[1] is None:
        return None
    return Head(int(row[0]), str(row[1]))


def unnotified(db: Database) -> list[str]:
    return [d for (d,) in db.execute(
        "SELECT date FROM digests WHERE notified_at IS NULL ORDER BY date").fetchall()]


def mark_notified(db: Database, *, at: str, date: str | None = None) -> None:
    """Mark ``date`` (or every written date not notified yet) as notified."""
    with write(db):
        if date is None:
            db.execute("UPDATE digests SET notified_at = ? WHERE notified_at IS NULL", [at])
        else:
            db.execute("UPDATE digests SET notified_at = ? WHERE date = ?", [at, date])
