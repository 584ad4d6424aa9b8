"""The ``source_alerts`` table: the last health of each source that was announced, so that a
health alert goes out once per change."""

from __future__ import annotations

from state.db import Database, write


def last(db: Database, source: str) -> tuple[str, str | None] | None:
    """(state, notified_at) of the source's last announced health, or None."""
    row = db.execute("SELECT state, notified_at FROM source_alerts WHERE source = ?",
                     [source]).fetchone()
    return (row[0], row[1]) if row else None


def remember(db: Database, source: str, state: str, message: str, *, at: str,
             notified: bool) -> None:
    with write(db):
        db.execute(
            "INSERT INTO source_alerts (source, state, message, changed_at, notified_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET state = excluded.state,"
            " message = excluded.message, changed_at = CASE WHEN source_alerts.state ="
            " excluded.state THEN source_alerts.changed_at ELSE excluded.changed_at END,"
            " notified_at = excluded.notified_at",
            [source, state, message, at, at if notified else None])
