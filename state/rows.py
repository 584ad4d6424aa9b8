"""Reading observations back as they stood at a moment: what polls at or before ``at`` saw."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from state.db import Database


@dataclass(slots=True)
class Version:
    id: int
    n: int
    subject: str
    value: float
    ci_low: float | None
    ci_high: float | None
    result_date: str | None
    attributes: dict[str, Any]
    first_seen: str
    url: str | None
    sha256: str | None


@dataclass(slots=True)
class Row:
    id: int
    source: str
    benchmark: str
    key: str
    first_seen: str
    retracted: bool
    versions: list[Version] = field(default_factory=list)

    @property
    def latest(self) -> Version:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class Poll:
    at: str
    fetch_id: int
    sha256: str | None
    suspicious: frozenset[str]  # benchmarks flagged suspicious in this poll


_ROWS = ("SELECT o.id, o.source, o.benchmark, o.key, o.first_seen, v.id, v.n, v.subject, v.value,"
         " v.ci_low, v.ci_high, v.result_date, v.attributes, v.first_seen, f.url, f.sha256"
         " FROM observations o JOIN versions v ON v.observation_id = o.id"
         " JOIN fetches f ON f.id = v.fetch_id WHERE v.first_seen <= :at AND ")


def _rows(db: Database, where: str, params: dict[str, Any],
          retracted: set[int]) -> dict[int, Row]:
    """The rows ``where`` names, by id in id order, with their versions first seen by
    ``params["at"]``; ``retracted``: the ids retracted then."""
    rows: dict[int, Row] = {}
    attributes_cache: dict[str, dict[str, Any]] = {}
    for (oid, source, benchmark, key, first_seen, vid, n, subject, value, ci_low, ci_high,
         result_date, attributes, version_first_seen, url, sha) in db.execute(
            _ROWS + where + " ORDER BY o.id, v.n", params).fetchall():
        row = rows.get(oid)
        if row is None:
            row = rows[oid] = Row(oid, source, benchmark, key, first_seen, oid in retracted)
        parsed = attributes_cache.get(attributes)
        if parsed is None:
            parsed = attributes_cache[attributes] = json.loads(attributes)
        row.versions.append(Version(vid, n, subject, value, ci_low, ci_high, result_date, parsed,
                                    version_first_seen, url, sha))
    return rows


def rows_as_of(db: Database, source: str, at: str) -> dict[str, list[Row]]:
    """Every row of ``source`` first seen at or before ``at``, per benchmark, with the versions
    seen by then and whether it was retracted at ``at``."""
    retracted = {
        oid for (oid,) in db.execute(
            "SELECT r.observation_id FROM retractions r JOIN observations o"
            " ON o.id = r.observation_id WHERE o.source = ? AND r.at <= ?"
            " AND (r.restored_at IS NULL OR r.restored_at > ?)", [source, at, at]
        ).fetchall()
    }
    by_benchmark: dict[str, list[Row]] = defaultdict(list)
    for row in _rows(db, "o.source = :source", {"source": source, "at": at},
                     retracted).values():
        by_benchmark[row.benchmark].append(row)
    return by_benchmark


def polls_as_of(db: Database, source: str, at: str, *, after: int = 0) -> list[Poll]:
    """The successful polls of ``source`` at or before ``at`` (after fetch ``after``), oldest
    first."""
    polls = []
    for fetch_id, poll_at, sha, suspicious in db.execute(
        "SELECT id, at, sha256, suspicious FROM fetches WHERE source = ? AND status != 'failed'"
        " AND at <= ? AND id > ? ORDER BY at, id", [source, at, after]
    ).fetchall():
        flagged = frozenset(item["benchmark"] for item in json.loads(suspicious or "[]"))
        polls.append(Poll(poll_at, fetch_id, sha, flagged))
    return polls


@dataclass(frozen=True, slots=True)
class Best:
    value: float
    subject: str
    key: str
    result_date: str | None


def live_counts(db: Database, source: str) -> dict[str, tuple[int, Best | None]]:
    """Per benchmark of ``source``: how many rows are live now, and the best of them."""
    found: dict[str, tuple[int, Best | None]] = {}
    for benchmark, count, value, subject, key, result_date in db.execute(
        "SELECT o.benchmark, count(*), max(v.value), v.subject, o.key, v.result_date"
        " FROM observations o JOIN versions v ON v.id = o.version_id"
        " WHERE o.source = ? AND o.retracted_at IS NULL GROUP BY o.benchmark", [source]
    ).fetchall():
        found[benchmark] = (count, Best(value, subject, key, result_date))
    return found


# -- The state-of-the-art index's reads (resolver/index.py) --------------------------------

_RETRACTED_AT = ("EXISTS (SELECT 1 FROM retractions r WHERE r.observation_id = o.id AND r.at <= :at"
                 " AND (r.restored_at IS NULL OR r.restored_at > :at))")


def _live(columns: str, at: str | None, rest: str = "") -> str:
    """A query of each live row of a benchmark at its version that counts: as the store
    holds it now (``at`` None; through the covering ``observations_live`` index), or as polls
    at or before ``at`` saw it."""
    if at is None:
        return (f"SELECT {columns} FROM observations o JOIN versions v ON v.id = o.version_id"
                " WHERE o.source = :source AND o.benchmark = :benchmark"
                f" AND o.retracted_at IS NULL {rest}")
    return (f"SELECT {columns} FROM observations o JOIN versions v ON v.observation_id = o.id"
            " WHERE o.source = :source AND o.benchmark = :benchmark AND o.first_seen <= :at"
            " AND v.n = (SELECT max(w.n) FROM versions w WHERE w.observation_id = o.id"
            f" AND w.first_seen <= :at) AND NOT {_RETRACTED_AT} {rest}")


def index_rows(db: Database, source: str, benchmark: str,
               at: str | None) -> list[tuple[int, str, float, str]]:
    """``(observation id, result date, value, attributes)`` of every dated live row of a
    benchmark, sorted by result date and id (``_live`` says at which moment)."""
    return db.execute(
        _live("o.id, v.result_date, v.value, v.attributes", at,
              "AND v.result_date IS NOT NULL ORDER BY v.result_date, o.id"),
        {"source": source, "benchmark": benchmark, "at": at}).fetchall()


def seen_rows(db: Database, source: str, benchmark: str,
              at: str | None) -> list[tuple[int, str, float, str, str]]:
    """``(observation id, first seen, value, attributes, subject)`` of every live row of a
    benchmark, dated or not, sorted by its version's first_seen and id: the rows a
    first-seen window counts."""
    return db.execute(
        _live("o.id, v.first_seen, v.value, v.attributes, v.subject", at,
              "ORDER BY v.first_seen, o.id"),
        {"source": source, "benchmark": benchmark, "at": at}).fetchall()


def subjects_of(db: Database, source: str, benchmark: str, *,
                at: str | None) -> dict[int, str]:
    """The subject of each live row of a benchmark, by observation id, at the version that
    ``index_rows`` gives."""
    return dict(db.execute(_live("o.id, v.subject", at),
                           {"source": source, "benchmark": benchmark, "at": at}).fetchall())


def benchmarks_of(db: Database, source: str) -> list[str]:
    return [b for (b,) in db.execute("SELECT DISTINCT benchmark FROM observations"
                                     " WHERE source = ? ORDER BY benchmark", [source])]


@dataclass(frozen=True, slots=True)
class Mark:
    """The latest fetch of a source that an index has taken in, as the store names it: a
    mark the store no longer holds (a rolled-back poll, a restored backup) means rebuild."""

    fetch_id: int
    token: str | None  # random, per fetch (None: recorded before tokens)
    at: str


def store_key(db: Database) -> str | None:
    """The store's file and its own random id (None for a store in memory): what an index
    kept of it is filed under."""
    path = db.execute("PRAGMA database_list").fetchone()[2]
    if not path:
        return None
    return f"{path}:{db.execute('SELECT id FROM store').fetchone()[0]}"


def latest_mark(db: Database, source: str) -> Mark | None:
    found = db.execute("SELECT id, token, at FROM fetches WHERE source = ?"
                       " ORDER BY id DESC LIMIT 1", [source]).fetchone()
    return Mark(*found) if found else None


def holds(db: Database, source: str, mark: Mark) -> bool:
    found = db.execute("SELECT source, token, at FROM fetches WHERE id = ?",
                       [mark.fetch_id]).fetchone()
    return (found is not None and mark.token is not None
            and tuple(found) == (source, mark.token, mark.at))


@dataclass(frozen=True, slots=True)
class Change:
    """A row that fetches after a mark changed: its state now (``live`` and dated, or not) and
    as the mark left it (``old_date`` None: not in the index then)."""

    observation_id: int
    benchmark: str
    live: bool
    result_date: str | None
    value: float
    attributes: str
    subject: str
    first_seen: str
    old_date: str | None
    old_value: float | None
    old_attributes: str | None
    old_subject: str | None
    old_first_seen: str | None  # None: not live then


def changes_since(db: Database, source: str, mark: Mark, *, limit: int) -> list[Change] | None:
    """The rows of ``source`` that fetches after ``mark`` gave a new version, retracted or
    restored; None when there are more than ``limit`` of them (rebuilding is cheaper)."""
    found = db.execute(
        "WITH new AS (SELECT id FROM fetches WHERE source = :source AND id > :mark),"
        " changed AS (SELECT observation_id AS id FROM versions WHERE fetch_id IN new"
        " UNION SELECT observation_id FROM retractions WHERE fetch_id IN new"
        " OR restored_fetch_id IN new)"
        " SELECT o.id, o.benchmark, o.retracted_at IS NULL, v.result_date, v.value,"
        " v.attributes, v.subject, v.first_seen, old.result_date, old.value, old.attributes,"
        " old.subject, old.first_seen,"
        " EXISTS (SELECT 1 FROM retractions r WHERE r.observation_id = o.id"
        " AND r.fetch_id <= :mark AND (r.restored_fetch_id IS NULL"
        " OR r.restored_fetch_id > :mark))"
        " FROM changed JOIN observations o ON o.id = changed.id"
        " JOIN versions v ON v.id = o.version_id"
        " LEFT JOIN versions old ON old.observation_id = o.id AND old.n = (SELECT max(w.n)"
        " FROM versions w WHERE w.observation_id = o.id AND w.fetch_id <= :mark)"
        " ORDER BY o.id LIMIT :over", {"source": source, "mark": mark.fetch_id, "over": limit + 1}
    ).fetchall()
    if len(found) > limit:
        return None
    return [Change(oid, benchmark, bool(live), date, value, attributes, subject, first_seen,
                   None if was_retracted else old_date, old_value, old_attributes, old_subject,
                   None if was_retracted else old_first_seen)
            for (oid, benchmark, live, date, value, attributes, subject, first_seen, old_date,
                 old_value, old_attributes, old_subject, old_first_seen, was_retracted) in found]


def row_as_of(db: Database, observation_id: int, at: str) -> Row | None:
    """One row with its versions seen at or before ``at``, and whether it was retracted then;
    None when no poll by then had seen it."""
    params = {"id": observation_id, "at": at}
    retracted = db.execute("SELECT " + _RETRACTED_AT.replace("o.id", ":id"), params).fetchone()[0]
    return _rows(db, "o.id = :id", params,
                 {observation_id} if retracted else set()).get(observation_id)


def keys_of(db: Database, observation_ids: list[int]) -> dict[int, str]:
    return dict(db.execute("SELECT id, key FROM observations WHERE id IN (SELECT value FROM"
                           " json_each(?))", [json.dumps(observation_ids)]).fetchall())


def first_seen_rows(db: Database, source: str, benchmark: str, at: str,
                    before: str) -> sqlite3.Cursor:
    """``(observation id, version n, value, attributes, subject)`` of each row of a benchmark
    live at ``at``, at its latest version first seen before ``before`` (and by ``at``), by
    id, with that version's first_seen."""
    return db.execute(
        "SELECT o.id, v.n, v.value, v.attributes, v.subject, v.first_seen"
        " FROM observations o JOIN versions v ON v.observation_id = o.id"
        " WHERE o.source = :source AND o.benchmark = :benchmark AND v.first_seen <= :at"
        " AND v.first_seen < :before AND v.n = (SELECT max(w.n) FROM versions w"
        " WHERE w.observation_id = o.id AND w.first_seen <= :at AND w.first_seen < :before)"
        " AND NOT " + _RETRACTED_AT + " ORDER BY o.id",
        {"source": source, "benchmark": benchmark, "at": at, "before": before})
