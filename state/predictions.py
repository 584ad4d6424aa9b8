"""Predictions and their append-only event log.

The lifecycle columns of ``predictions`` (status, outcome, status_at, deciding, baseline) are
kept in step with the events in the same transaction; they can be rebuilt from the events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

IMMUTABLE = ("claim", "late_days", "confirm_hours", "confirm_polls", "probability", "bet",
             "deadline", "criteria")
METADATA = ("title", "author", "url", "quote")
COLUMNS = (
    "id", "claim", "raw", "source", "benchmark", "late_days", "confirm_hours", "confirm_polls",
    "deadline", "criteria", "probability", "bet", "title", "author", "url", "quote",
    "registered_at", "status", "outcome", "status_at", "deciding", "baseline", "due", "op",
    "threshold", "partition",
)
_PENDING = ("id", "claim", "source", "status", "outcome", "status_at", "deciding", "baseline",
            "late_days", "confirm_hours", "confirm_polls", "due")


class OutOfOrder(Exception):
    """An event dated before the prediction's latest one: a bug the store refuses to record."""

    def __init__(self, prediction_id: str, at: str, latest: str) -> None:
        super().__init__(f"{prediction_id}: an event at {at} would precede its latest, {latest}")


@dataclass
class Event:
    prediction_id: str
    kind: str  # status | baseline | note
    at: str
    recorded_at: str
    reason: str
    from_status: str | None = None
    to_status: str | None = None
    outcome: str | None = None
    evidence: dict[str, Any] | None = None
    by: str | None = None


def get(db: Database, prediction_id: str) -> dict[str, Any] | None:
    row = db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM predictions WHERE id = ?", [prediction_id]
    ).fetchone()
    return _decode(row) if row else None


def all_(db: Database, *, status: str | None = None) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(COLUMNS)} FROM predictions"
    params: list[Any] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    return [_decode(row) for row in db.execute(sql + " ORDER BY rowid", params)]


def open_partitions(db: Database, source: str) -> list[tuple[str, str]]:
    """(partition, one claim of it) for the open claims with a threshold on ``source``."""
    return db.execute(
        "SELECT partition, claim FROM predictions WHERE rowid IN (SELECT min(rowid)"
        " FROM predictions WHERE source = ? AND status = 'open' AND threshold IS NOT NULL"
        " GROUP BY partition)", [source]).fetchall()


def pending(db: Database, *, polled: frozenset[str] | None, bests: dict[str, float] | None,
            retired: set[str], at: str) -> list[dict[str, Any]]:
    """The open and provisional claims an evaluation must look at.

    With ``polled`` None: all of them. Otherwise: the provisional ones (their confirmation may
    complete), and on the polled sources the open ones whose late outcome is due, whose
    baseline is not frozen, or whose partition's best value in ``bests`` crosses their
    threshold; no other open claim can move. Claims on retired sources are annulled. Each
    part is one indexed query, so the cost follows what can move, not what is registered."""
    columns = ", ".join(f"p.{name}" for name in _PENDING) + ", p.rowid"
    # Time only moves forward, per prediction: one with an event later than ``at`` is not
    # evaluated as of ``at`` (a backdated poll of one source cannot move another's claims).
    guard = ("p.claim != 'manual' AND NOT EXISTS (SELECT 1 FROM events e"
             " WHERE e.prediction_id = p.id AND e.at > ?)")
    base = f"SELECT {columns} FROM predictions p WHERE {guard} AND "
    if polled is None:
        queries: list[tuple[str, list[Any]]] = [
            (base + "p.status IN ('open', 'provisional')", [at])]
    else:
        queries = [(base + "p.status = 'provisional'", [at])]
        for source in sorted(retired):
            queries.append((base + "p.source = ? AND p.status = 'open'", [at, source]))
        for source in sorted(polled):
            queries.append((base + "p.status = 'open' AND p.source = ? AND p.due <= ?",
                            [at, source, at]))
            queries.append((base + "p.source = ? AND p.status = 'open'"
                            " AND p.threshold IS NULL", [at, source]))
        if bests:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS best_now"
                       " (partition TEXT PRIMARY KEY, value REAL NOT NULL)")
            db.execute("DELETE FROM best_now")
            db.conn.executemany("INSERT INTO best_now VALUES (?, ?)", bests.items())
            for source in sorted(polled):
                # A claim crosses when its threshold is below the best value, or equal to it
                # for >= and < claims.
                queries.append((
                    f"SELECT {columns} FROM best_now b CROSS JOIN predictions p"
                    " ON p.source = ? AND p.status = 'open' AND p.partition = b.partition"
                    f" AND p.threshold <= b.value WHERE {guard}"
                    " AND (p.threshold < b.value OR p.op IN ('>=', '<'))", [source, at]))
    found: dict[int, tuple[Any, ...]] = {}
    for sql, params in queries:
        for row in db.execute(sql, params):
            found[row[-1]] = row[:-1]
    result = []
    for rowid in sorted(found):  # in registration order, whichever query found it
        record = dict(zip(_PENDING, found[rowid], strict=True))
        for name in ("deciding", "baseline"):
            if record[name] is not None:
                record[name] = json.loads(record[name])
        result.append(record)
    return result


def _decode(row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip(COLUMNS, row, strict=True))
    for name in ("bet", "deciding", "baseline"):
        if record[name] is not None:
            record[name] = json.loads(record[name])
    return record


def insert(db: Database, record: dict[str, Any]) -> None:
    values = dict(record)
    if values.get("bet") is not None:
        values["bet"] = json.dumps(values["bet"], sort_keys=True)
    names = [name for name in COLUMNS if name in values]
    db.execute(
        f"INSERT INTO predictions ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [values[name] for name in names],
    )


def update_metadata(db: Database, prediction_id: str, metadata: dict[str, Any]) -> bool:
    current = get(db, prediction_id)
    assert current is not None
    changed = {k: v for k, v in metadata.items() if k in METADATA and current[k] != v}
    if changed:
        db.execute(
            f"UPDATE predictions SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",
            [*changed.values(), prediction_id],
        )
    return bool(changed)


def append(db: Database, event: Event, *, status: str | None = None, outcome: str | None = None,
           deciding: dict[str, Any] | None = None, baseline: dict[str, Any] | None = None) -> int:
    """Append one event and move the prediction's lifecycle columns with it, in one update
    that also numbers the event. An event earlier than the prediction's latest is refused:
    time only moves forward, per prediction (DESIGN section 4)."""
    latest = db.execute("SELECT max(at) FROM events WHERE prediction_id = ?",
                        [event.prediction_id]).fetchone()[0]
    if latest is not None and event.at < latest:
        raise OutOfOrder(event.prediction_id, event.at, latest)
    if event.kind == "status":
        sql = ("UPDATE predictions SET status = ?, outcome = ?, status_at = ?, deciding = ?,"
               " events = events + 1 WHERE id = ? RETURNING events")
        params = [status, outcome, event.at, json.dumps(deciding) if deciding else None,
                  event.prediction_id]
    elif baseline is not None:
        sql = ("UPDATE predictions SET baseline = ?, threshold = ?, events = events + 1"
               " WHERE id = ? RETURNING events")
        params = [json.dumps(baseline), baseline["threshold"], event.prediction_id]
    else:
        sql = "UPDATE predictions SET events = events + 1 WHERE id = ? RETURNING events"
        params = [event.prediction_id]
    seq = db.execute(sql, params).fetchone()[0]
    cursor = db.execute(
        "INSERT INTO events (prediction_id, seq, kind, from_status, to_status, outcome, at,"
        " recorded_at, reason, evidence, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event.prediction_id, seq, event.kind, event.from_status, event.to_status, event.outcome,
         event.at, event.recorded_at, event.reason,
         json.dumps(event.evidence, sort_keys=True) if event.evidence is not None else None,
         event.by],
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def events(db: Database, prediction_id: str | None = None) -> list[dict[str, Any]]:
    sql = ("SELECT id, prediction_id, seq, kind, from_status, to_status, outcome, at, recorded_at,"
           " reason, evidence, by FROM events")
    params: list[Any] = []
    if prediction_id is not None:
        sql += " WHERE prediction_id = ?"
        params.append(prediction_id)
    names = ("id", "prediction_id", "seq", "kind", "from_status", "to_status", "outcome", "at",
             "recorded_at", "reason", "evidence", "by")
    result = []
    for row in db.execute(sql + " ORDER BY id", params):
        record = dict(zip(names, row, strict=True))
        record["evidence"] = json.loads(record["evidence"]) if record["evidence"] else None
        result.append(record)
    return result


def last_evidence(db: Database, prediction_id: str, *,
                  to_status: str | None = None) -> dict[str, Any] | None:
    """The evidence of a prediction's latest status event (optionally: its latest move to
    ``to_status``)."""
    sql = "SELECT evidence FROM events WHERE prediction_id = ? AND kind = 'status'"
    params: list[Any] = [prediction_id]
    if to_status is not None:
        sql += " AND to_status = ?"
        params.append(to_status)
    row = db.execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def latest_event_at(db: Database) -> str | None:
    row = db.execute("SELECT max(at) FROM events").fetchone()
    return row[0] if row else None
