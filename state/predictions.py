"""Predictions and their append-only event log.

The lifecycle columns of ``predictions`` (status, outcome, status_at, deciding, baseline) are
kept in step with the events in the same transaction; they can be rebuilt from the events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Set
from typing import Any, NamedTuple

from state import chain
from state.db import Database, write
from state.records import (
    MANUAL,
    Baseline,
    Bet,
    Decision,
    Event,
    NewEvent,
    Outcome,
    Prediction,
    Proof,
    Status,
    decision_from_json,
    dumps,
    loads,
    proof_from_json,
)

METADATA = ("title", "url", "quote")  # what re-registering may update
COLUMNS = (
    "id", "claim", "raw", "source", "benchmark", "late_days", "confirm_hours", "confirm_polls",
    "deadline", "criteria", "probability", "bet", "title", "author", "url", "quote",
    "registered_at", "status", "outcome", "status_at", "deciding", "baseline", "due", "op",
    "threshold", "partition", "made", "notify",
)
_SELECT = f"SELECT {', '.join(f'p.{name}' for name in COLUMNS)} FROM predictions p"


class OutOfOrder(Exception):
    """An event dated before the prediction's latest one: a bug the store refuses to record."""

    def __init__(self, prediction_id: str, at: str, latest: str) -> None:
        super().__init__(f"{prediction_id}: an event at {at} would precede its latest, {latest}")


_BET, _DECIDING, _BASELINE, _NOTIFY = (COLUMNS.index(name) for name in (
    "bet", "deciding", "baseline", "notify"))


def _prediction(row: tuple[Any, ...]) -> Prediction:
    # COLUMNS are Prediction's fields, in order (tested): positional is the fast way in.
    values = list(row)
    del values[len(COLUMNS):]  # pending() reads the rowid (and event count) after them
    values[_BET] = Bet.from_json(bet) if (bet := loads(values[_BET])) else None
    values[_DECIDING] = decision_from_json(loads(values[_DECIDING]))
    values[_BASELINE] = Baseline.from_json(b) if (b := loads(values[_BASELINE])) else None
    values[_NOTIFY] = tuple(json.loads(values[_NOTIFY])) if values[_NOTIFY] else ()
    return Prediction(*values)


def get(db: Database, prediction_id: str) -> Prediction | None:
    row = db.execute(f"{_SELECT} WHERE p.id = ?", [prediction_id]).fetchone()
    return _prediction(row) if row else None


def all_(db: Database, *, status: Status | None = None) -> list[Prediction]:
    sql = _SELECT
    params: list[Any] = []
    if status:
        sql += " WHERE p.status = ?"
        params.append(status)
    return [_prediction(row) for row in db.execute(sql + " ORDER BY p.rowid", params)]


class Listed(NamedTuple):
    """What ``predict list`` shows of a prediction: its columns, no JSON decoded."""

    id: str
    claim: str
    status: Status
    outcome: Outcome | None
    source: str | None
    partition: str | None
    threshold: float | None
    deadline: str | None
    probability: float | None
    title: str | None

    @property
    def manual(self) -> bool:
        return self.claim == MANUAL


def listed(db: Database, *, status: Status | None = None) -> list[Listed]:
    """Every prediction as ``predict list`` shows it, in registration order."""
    sql = f"SELECT {', '.join(Listed._fields)} FROM predictions"
    params: list[Any] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    return [Listed(*row) for row in db.execute(sql + " ORDER BY rowid", params)]


_OPEN = "source = ?1 AND status = 'open' AND threshold IS NOT NULL"


def open_partitions(db: Database, source: str) -> list[tuple[str, str]]:
    """(partition, one claim of it) for the open claims with a threshold on ``source``, in
    partition order. The index on (source, status, partition, threshold) is walked from one
    partition to the next, two probes each, rather than through every open claim."""
    return db.execute(
        "WITH RECURSIVE walk(partition) AS ("
        f" SELECT min(partition) FROM predictions WHERE {_OPEN}"
        f" UNION ALL SELECT (SELECT min(partition) FROM predictions WHERE {_OPEN}"
        " AND partition > walk.partition) FROM walk WHERE walk.partition IS NOT NULL)"
        f" SELECT partition, (SELECT claim FROM predictions WHERE {_OPEN}"
        " AND partition = walk.partition LIMIT 1) FROM walk WHERE partition IS NOT NULL",
        [source]).fetchall()


def pending(db: Database, *, polled: frozenset[str] | None, bests: dict[str, float] | None,
            retired: Set[str], at: str) -> list[Prediction]:
    """The open and provisional claims an evaluation must look at.

    With ``polled`` None: all of them. Otherwise: the provisional ones (their confirmation may
    complete), and on the polled sources the open ones whose late outcome is due, whose
    baseline is not frozen, or whose partition's best value in ``bests`` crosses their
    threshold; no other open claim can move. Claims on retired sources are annulled. Each
    part is one indexed query, so the cost follows what can move, not what is registered."""
    # Time only moves forward, per prediction: one with an event later than ``at`` is not
    # evaluated as of ``at`` (a backdated poll of one source cannot move another's claims).
    guard = (f"p.claim != '{MANUAL}' AND NOT EXISTS (SELECT 1 FROM events e"
             " WHERE e.prediction_id = p.id AND e.at > ?)")
    latest = db.execute("SELECT max(at) FROM events").fetchone()[0]
    if latest is None or latest <= at:  # no event is later: one index probe, not one each
        guard = f"p.claim != '{MANUAL}' AND ? IS NOT NULL"
    select = _SELECT.replace(" FROM", ", p.rowid FROM", 1)
    base = f"{select} WHERE {guard} AND "
    crosses: list[tuple[str, list[Any]]] = []
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
            # These claims cross: they move. Their event counts are read with them (after
            # the columns, before the rowid), so that their appends need not return them.
            crossing = _SELECT.replace(" FROM predictions p", ", p.events, p.rowid"
                                       " FROM best_now b", 1)
            for source in sorted(polled):
                # A claim crosses when its threshold is below the best value, or equal to it
                # for >= and < claims.
                crosses.append((
                    f"{crossing}"
                    " CROSS JOIN predictions p ON p.source = ? AND p.status = 'open'"
                    " AND p.partition = b.partition AND p.threshold <= b.value"
                    f" WHERE {guard} AND (p.threshold < b.value OR p.op IN ('>=', '<'))",
                    [source, at]))
    found: dict[int, tuple[Any, ...]] = {}
    for sql, params in queries:
        for row in db.execute(sql, params):
            found[row[-1]] = row
    # The counts hold until this write ends: its appends number from them.
    counts = db.seqs if db.writing else {}
    for sql, params in crosses:
        for row in db.execute(sql, params):
            found[row[-1]] = row
            counts[row[0]] = row[-2]
    # In registration order, whichever query found it.
    return [_prediction(found[rowid]) for rowid in sorted(found)]


def insert(db: Database, prediction: Prediction) -> None:
    """Register a prediction, noting the last fetch the store holds now: its re-derivation
    (``resolver verify``) registers it again after the same polls."""
    values = dict(zip(COLUMNS, (getattr(prediction, name) for name in COLUMNS), strict=True))
    values["bet"] = dumps(prediction.bet.to_json()) if prediction.bet else None
    values["deciding"] = dumps(prediction.deciding.to_json()) if prediction.deciding else None
    values["baseline"] = dumps(prediction.baseline.to_json()) if prediction.baseline else None
    values["notify"] = json.dumps(list(prediction.notify)) if prediction.notify else None
    db.execute(f"INSERT INTO predictions ({', '.join(COLUMNS)}, after_fetch) VALUES "
               f"({', '.join('?' for _ in COLUMNS)},"
               " (SELECT coalesce(max(id), 0) FROM fetches))", list(values.values()))


def registered_after(db: Database, prediction_id: str) -> int:
    """The id of the last fetch the store held when the prediction was registered."""
    row = db.execute("SELECT after_fetch FROM predictions WHERE id = ?",
                     [prediction_id]).fetchone()
    return int(row[0] or 0) if row else 0


def event_counts(db: Database) -> list[tuple[str, int, int, int]]:
    """(prediction id, events it counts, events in the log, highest seq) where they
    disagree: an event deleted from the log, or a gap in its numbering."""
    return db.execute(
        "SELECT p.id, p.events, count(e.id), coalesce(max(e.seq), 0) FROM predictions p"
        " LEFT JOIN events e ON e.prediction_id = p.id GROUP BY p.id"
        " HAVING p.events != count(e.id) OR coalesce(max(e.seq), 0) != count(e.id)"
        " ORDER BY p.rowid").fetchall()


def update_metadata(db: Database, prediction: Prediction) -> bool:
    """Update title, author, url and quote (the only fields that may change); True if any
    did."""
    current = get(db, prediction.id)
    assert current is not None
    changed = {name: getattr(prediction, name) for name in METADATA
               if getattr(current, name) != getattr(prediction, name)}
    if changed:
        db.execute(
            f"UPDATE predictions SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",
            [*changed.values(), prediction.id],
        )
    return bool(changed)


def append(db: Database, event: NewEvent, *, status: Status | None = None,
           outcome: Outcome | None = None, deciding: Decision | None = None,
           baseline: Baseline | None = None) -> int:
    if db.writing:  # the caller's write (the lifecycle's): the lock is held
        return _append(db, event, status=status, outcome=outcome, deciding=deciding,
                       baseline=baseline)
    with write(db):  # one of its own, so that the lock is held throughout
        return _append(db, event, status=status, outcome=outcome, deciding=deciding,
                       baseline=baseline)


# What an append moves with the event: its status columns, its baseline, or only the count.
_MOVED = {"status": "status = ?, outcome = ?, status_at = ?, deciding = ?, ",
          "baseline": "baseline = ?, threshold = ?, ", "": ""}
# The event's number: the count moved by one and returned, or (when this write read the
# count) set to the next one where the count is still the one read.
_NUMBER = {kind: f"UPDATE predictions SET {columns}events = events + 1 WHERE id = ?"
           " RETURNING events" for kind, columns in _MOVED.items()}
_NEXT = {kind: f"UPDATE predictions SET {columns}events = ? WHERE id = ? AND events = ?"
         for kind, columns in _MOVED.items()}

_INSERT_EVENT = (
    "INSERT INTO events (id, prediction_id, seq, kind, from_status, to_status, outcome, at,"
    " recorded_at, reason, evidence, by, resolver_version, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _append(db: Database, event: NewEvent, *, status: Status | None,
            outcome: Outcome | None, deciding: Decision | None,
            baseline: Baseline | None) -> int:
    """Append one event and move the prediction's lifecycle columns with it, in one update
    that also numbers the event, and extend the hash chain over the log with it (recording
    the resolver version that appends it). An event earlier than the prediction's latest is
    refused: time only moves forward, per prediction (DESIGN section 4)."""
    if db.chain_tail is None or not db.writing:  # cached only within this write
        last = db.execute("SELECT id, hash, (SELECT max(at) FROM events) FROM events"
                          " ORDER BY id DESC LIMIT 1").fetchone()
        db.chain_tail = (last[0], last[1] or chain.ZERO) if last else (0, chain.ZERO)
        db.events_latest = last[2] if last else ""
    assert db.events_latest is not None
    if event.at < db.events_latest:  # some event is later: is one of this prediction's?
        latest = db.execute("SELECT max(at) FROM events WHERE prediction_id = ?",
                            [event.prediction_id]).fetchone()[0]
        if latest is not None and event.at < latest:
            raise OutOfOrder(event.prediction_id, event.at, latest)
    if event.kind == "status":
        moved = "status"
        params: list[Any] = [status, outcome, event.at,
                             _text(db, deciding, sort=False) if deciding else None]
    elif baseline is not None:
        moved = "baseline"
        params = [json.dumps(baseline.to_json()), baseline.threshold]
    else:
        moved, params = "", []
    counted = db.seqs.get(event.prediction_id)
    if counted is None:
        seq = db.execute(_NUMBER[moved], [*params, event.prediction_id]).fetchone()[0]
    else:  # this write read the count under its lock: no RETURNING, and checked
        seq = counted + 1
        if db.execute(_NEXT[moved], [*params, seq, event.prediction_id, counted]
                      ).rowcount != 1:
            raise RuntimeError(f"{event.prediction_id}: its event count is not {counted}")
    db.seqs[event.prediction_id] = seq
    row = {"prediction_id": event.prediction_id, "seq": seq, "kind": event.kind,
           "from_status": event.from_status, "to_status": event.to_status,
           "outcome": event.outcome, "at": event.at, "recorded_at": event.recorded_at,
           "reason": event.reason,
           "evidence": None if event.evidence is None else _text(db, event.evidence, sort=True),
           "by": event.by, "resolver_version": chain.VERSION}
    # The next id in append order, and the hash of the row as it is stored, linked to the
    # last event's: one insert (the write lock is held, so nobody appends in between).
    event_id = db.chain_tail[0] + 1
    row = {"id": event_id, **row}
    row["hash"] = chain.event_hash(db.chain_tail[1], row)
    db.execute(_INSERT_EVENT, list(row.values()))
    db.chain_tail = (event_id, row["hash"])
    db.events_latest = max(db.events_latest, event.at)
    return event_id


def _text(db: Database, data: Proof | Decision, *, sort: bool) -> str:
    """The stored JSON of ``data``, made once per object in this write."""
    known = db.texts.get(id(data))
    if known is not None and known[0] is data:
        return known[1]
    text = dumps(data.to_json()) if sort else json.dumps(data.to_json())
    assert text is not None
    db.texts[id(data)] = (data, text)
    return text


_EVENT = ("SELECT id, prediction_id, seq, kind, from_status, to_status, outcome, at,"
          " recorded_at, reason, evidence, by FROM events")


def event_from_row(row: Mapping[str, Any]) -> Event:
    """An event from its stored row as a mapping (``state.chain.rows``, a bundle)."""
    return _event(tuple(row[name] for name in _EVENT_COLUMNS))


_EVENT_COLUMNS = ("id", "prediction_id", "seq", "kind", "from_status", "to_status", "outcome",
                  "at", "recorded_at", "reason", "evidence", "by")


def _event(row: tuple[Any, ...]) -> Event:
    (event_id, prediction_id, seq, kind, from_status, to_status, outcome, at, recorded_at,
     reason, evidence, by) = row
    return Event(event_id, prediction_id, seq, kind, from_status, to_status, outcome, at,
                 recorded_at, reason, proof_from_json(loads(evidence)), by)


def events(db: Database, prediction_id: str | None = None) -> list[Event]:
    """The event log in append order (of one prediction, or all)."""
    sql, params = _EVENT, []
    if prediction_id is not None:
        sql += " WHERE prediction_id = ?"
        params.append(prediction_id)
    return [_event(row) for row in db.execute(sql + " ORDER BY id", params)]


def last_evidence(db: Database, prediction_id: str, *,
                  to_status: Status | None = None) -> Proof | None:
    """The evidence of a prediction's latest status event (optionally: its latest move to
    ``to_status``)."""
    sql = "SELECT evidence FROM events WHERE prediction_id = ? AND kind = 'status'"
    params: list[Any] = [prediction_id]
    if to_status is not None:
        sql += " AND to_status = ?"
        params.append(to_status)
    row = db.execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
    return proof_from_json(loads(row[0])) if row else None


def latest_event_at(db: Database) -> str | None:
    row = db.execute("SELECT max(at) FROM events").fetchone()
    return row[0] if row else None
