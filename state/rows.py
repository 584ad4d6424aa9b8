"""Reading observations back as they stood at a moment: what polls at or before ``at`` saw."""

from __future__ import annotations

import json
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
    rows: dict[int, Row] = {}
    by_benchmark: dict[str, list[Row]] = defaultdict(list)
    attributes_cache: dict[str, dict[str, Any]] = {}
    for (oid, benchmark, key, first_seen, vid, n, subject, value, ci_low, ci_high, result_date,
         attributes, version_first_seen, url, sha) in db.execute(
        "SELECT o.id, o.benchmark, o.key, o.first_seen, v.id, v.n, v.subject, v.value, v.ci_low,"
        " v.ci_high, v.result_date, v.attributes, v.first_seen, f.url, f.sha256"
        " FROM observations o JOIN versions v ON v.observation_id = o.id"
        " JOIN fetches f ON f.id = v.fetch_id"
        " WHERE o.source = ? AND v.first_seen <= ? ORDER BY o.id, v.n", [source, at]
    ).fetchall():
        row = rows.get(oid)
        if row is None:
            row = rows[oid] = Row(oid, source, benchmark, key, first_seen, oid in retracted)
            by_benchmark[benchmark].append(row)
        parsed = attributes_cache.get(attributes)
        if parsed is None:
            parsed = attributes_cache[attributes] = json.loads(attributes)
        row.versions.append(Version(vid, n, subject, value, ci_low, ci_high, result_date, parsed,
                                    version_first_seen, url, sha))
    return by_benchmark


def polls_as_of(db: Database, source: str, at: str) -> list[Poll]:
    """The successful polls of ``source`` at or before ``at``, oldest first."""
    polls = []
    for fetch_id, poll_at, sha, suspicious in db.execute(
        "SELECT id, at, sha256, suspicious FROM fetches WHERE source = ? AND status != 'failed'"
        " AND at <= ? ORDER BY at, id", [source, at]
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
