"""The ``change_alerts`` table: which state changes were alerted at once (DESIGN section 13),
per audience ('notify': the notify setting's URLs, 'own': the prediction's own URLs).

A change is marked once the notifier accepted it (or there was nobody to tell), so a change
without its row is sent again after a restart: at least once, never skipped.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from state.db import Database, write
from state.predictions import event_from_row
from state.records import Event

Audience: TypeAlias = Literal["notify", "own"]
_COLUMNS = ("id", "prediction_id", "seq", "kind", "from_status", "to_status", "outcome", "at",
            "recorded_at", "reason", "evidence", "by")


def unsent(db: Database, audience: Audience) -> list[Event]:
    """Status events (the changes) not yet alerted to ``audience``, in append order."""
    rows = db.execute(
        f"SELECT {', '.join(f'e.{name}' for name in _COLUMNS)} FROM events e"
        " WHERE e.kind = 'status' AND NOT EXISTS (SELECT 1 FROM change_alerts c"
        " WHERE c.event_id = e.id AND c.audience = ?) ORDER BY e.id", [audience]).fetchall()
    return [event_from_row(dict(zip(_COLUMNS, row, strict=True))) for row in rows]


def mark(db: Database, event_ids: list[int], audience: Audience, *, at: str,
         delivered: bool) -> None:
    """Record that these changes were alerted to ``audience`` (or that nobody was told)."""
    if not event_ids:
        return
    with write(db):
        db.conn.executemany(
            "INSERT OR IGNORE INTO change_alerts (event_id, audience, sent_at, delivered)"
            " VALUES (?, ?, ?, ?)", [(i, audience, at, int(delivered)) for i in event_ids])


def delivered(db: Database) -> list[tuple[int, Audience]]:
    """(event id, audience) of every alert the notifier accepted, in order (for tests and
    people who ask what went out)."""
    return [(int(i), a) for i, a in db.execute(
        "SELECT event_id, audience FROM change_alerts WHERE delivered = 1"
        " ORDER BY event_id, audience")]


def latest_event(db: Database) -> int:
    """The id of the latest event (0 when there is none)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])


def never_alert_after(db: Database, event_id: int, *, at: str) -> None:
    """Mark the changes appended after ``event_id`` as told to nobody: a replay or backfill
    (``poll --from-file``) never notifies, now or at a later cycle (DESIGN section 5)."""
    with write(db):
        for audience in ("notify", "own"):
            db.execute(
                "INSERT OR IGNORE INTO change_alerts (event_id, audience, sent_at, delivered)"
                " SELECT id, ?, ?, 0 FROM events WHERE kind = 'status' AND id > ?",
                [audience, at, event_id])
