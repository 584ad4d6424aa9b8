"""The hash chain over the event log (DESIGN section 4).

In global append order (``events.id``) each event stores ``hash`` = the sha256 hex of the
previous event's hash hex followed by the event's stored row without ``hash``, as JSON with
sorted keys, separators ``,`` and ``:``, UTF-8 (non-ASCII characters as themselves). The first
event's previous hash is 64 zeros. The row is the columns of ``CHAINED``, exactly as stored
(``evidence`` is its JSON text, not the decoded object), so anyone can recompute the chain
from the rows with a few lines of any language::

    previous = "0" * 64
    for row in rows_in_id_order:
        text = json.dumps({k: row[k] for k in CHAINED}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False)
        previous = sha256((previous + text).encode()).hexdigest()  # == row["hash"]

The head (event count and latest hash) is printed in every digest and by ``resolver
verify``: whoever kept an old digest can detect a rewritten history.

This module reads and checks the chain; ``state.predictions.append`` extends it in the
transaction that appends each event (``link``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from state.db import Database

ZERO = "0" * 64
# The stored columns an event's hash covers: all of them but ``hash``. A column added to
# ``events`` later is not covered unless its migration rebuilds the chain.
CHAINED = ("id", "prediction_id", "seq", "kind", "from_status", "to_status", "outcome", "at",
           "recorded_at", "reason", "evidence", "by", "resolver_version")
_SELECT = f"SELECT {', '.join(CHAINED)}, hash FROM events"


@functools.cache
def version() -> str:
    """The installed resolver's version (state/ does not import resolver/), read when an
    event is first appended: reading it costs milliseconds a read-only command does not
    spend."""
    from importlib import metadata

    try:
        return metadata.version("resolver")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def __getattr__(name: str) -> str:
    """``VERSION``: ``version()``, for the callers that read it as a constant."""
    if name == "VERSION":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class Head:
    """The chain head: how many events, and the latest one's hash (64 zeros when empty)."""

    events: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"events": self.events, "head": self.hash}

    def __str__(self) -> str:
        return f"events {self.events}, head {self.hash}"


@dataclass(frozen=True, slots=True)
class Break:
    """The first event whose stored hash is not the one its row and predecessor give."""

    position: int  # 1-based place in append order
    event_id: int
    prediction_id: str
    seq: int
    stored: str | None
    expected: str

    def __str__(self) -> str:
        return (f"event {self.event_id} ({self.prediction_id} #{self.seq}, position "
                f"{self.position}): stored hash {self.stored or 'none'}, its row and "
                f"predecessor give {self.expected}")


# What json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds
# for each call, built once: the same text, without an encoder made per event.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(previous: str, row: Mapping[str, Any]) -> str:
    text = _CANONICAL.encode({name: row[name] for name in CHAINED})
    return hashlib.sha256((previous + text).encode("utf-8")).hexdigest()


def rows(db: Database, prediction_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Stored event rows (with ``hash``) in append order: all, or one prediction's."""
    sql, params = _SELECT, []
    if prediction_id is not None:
        sql += " WHERE prediction_id = ?"
        params.append(prediction_id)
    names = (*CHAINED, "hash")
    for row in db.execute(sql + " ORDER BY id", params):
        yield dict(zip(names, row, strict=True))


def check(chained: Iterable[Mapping[str, Any]], *, previous: str = ZERO) -> Break | None:
    """The first break of a run of consecutive rows in append order, or None. Each row is
    checked against the stored hash of the row before it, so one edited event is reported
    as itself, not as everything after it."""
    for position, row in enumerate(chained, 1):
        expected = event_hash(previous, row)
        if row["hash"] != expected:
            return Break(position, row["id"], row["prediction_id"], row["seq"], row["hash"],
                         expected)
        previous = row["hash"]
    return None


def head(db: Database) -> Head:
    count, latest = db.execute(
        "SELECT count(*), (SELECT hash FROM events ORDER BY id DESC LIMIT 1) FROM events"
    ).fetchone()
    return Head(count, latest or ZERO)


def head_before(db: Database, end: str) -> Head:
    """The head of the longest run of the log, from its start, whose events are all dated
    before ``end``: the chain a digest ending at ``end`` shows when it was never written (it
    changes only if events dated in the past are appended while no later one exists)."""
    first_later = db.execute("SELECT min(id) FROM events WHERE at >= ?", [end]).fetchone()[0]
    if first_later is None:
        return head(db)
    count, latest = db.execute(
        "SELECT count(*), (SELECT hash FROM events WHERE id < ? ORDER BY id DESC LIMIT 1)"
        " FROM events WHERE id < ?", [first_later, first_later]).fetchone()
    return Head(count, latest or ZERO)


def previous_hash(db: Database, event_id: int) -> str:
    """The stored hash of the event before ``event_id`` in append order (64 zeros: none)."""
    row = db.execute("SELECT hash FROM events WHERE id < ? ORDER BY id DESC LIMIT 1",
                     [event_id]).fetchone()
    return str(row[0]) if row and row[0] is not None else ZERO


def link(db: Database, event_id: int) -> str:
    """Give the event just appended its hash (inside the append's transaction)."""
    row = next(iter(_by_id(db, event_id)))
    digest = event_hash(previous_hash(db, event_id), row)
    db.execute("UPDATE events SET hash = ? WHERE id = ?", [digest, event_id])
    return digest


def _by_id(db: Database, event_id: int) -> Iterator[dict[str, Any]]:
    names = (*CHAINED, "hash")
    for row in db.execute(_SELECT + " WHERE id = ?", [event_id]):
        yield dict(zip(names, row, strict=True))


def rebuild(db: Database) -> int:
    """Compute the hash of every event, in append order (the migration that introduced the
    chain); the number of events chained."""
    previous = ZERO
    updates = []
    for row in rows(db):
        previous = event_hash(previous, row)
        updates.append((previous, row["id"]))
    db.conn.executemany("UPDATE events SET hash = ? WHERE id = ?", updates)
    return len(updates)
