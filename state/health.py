"""A source's health as people read it (``resolver sources``, alerts, the digest's source
health): what its polls recorded in ``fetches`` and ``benchmark_health``, which
``state.polls`` writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from state.db import Database


@dataclass(frozen=True)
class Suspicion:
    benchmark: str
    reason: str
    since: str | None
    polls: int

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark, "reason": self.reason, "since": self.since,
                "polls": self.polls}


@dataclass(frozen=True)
class Health:
    """A source's health as its polls tell it (``resolver sources``, alerts)."""

    last_success: str | None
    rows: int | None
    last_failure: str | None
    last_error: str | None
    failing_since: str | None  # the first failure since the last success, while failing
    suspicious: tuple[Suspicion, ...]


def of(db: Database, source: str) -> Health:
    last_ok = db.execute(
        "SELECT at, rows FROM fetches WHERE source = ? AND status != 'failed'"
        " ORDER BY at DESC, id DESC LIMIT 1", [source]).fetchone()
    last_fail = db.execute(
        "SELECT at, error FROM fetches WHERE source = ? AND status = 'failed'"
        " ORDER BY at DESC, id DESC LIMIT 1", [source]).fetchone()
    failing_since = None
    if last_fail and (not last_ok or last_fail[0] > last_ok[0]):
        failing_since = db.execute(
            "SELECT min(at) FROM fetches WHERE source = ? AND status = 'failed' AND at > ?",
            [source, last_ok[0] if last_ok else ""]).fetchone()[0]
    suspicious = tuple(Suspicion(*row) for row in db.execute(
        "SELECT benchmark, suspicious_reason, suspicious_since, suspicious_polls"
        " FROM benchmark_health WHERE source = ? AND suspicious_polls > 0", [source]))
    return Health(last_ok[0] if last_ok else None, last_ok[1] if last_ok else None,
                  last_fail[0] if last_fail else None, last_fail[1] if last_fail else None,
                  failing_since, suspicious)


def first_success(db: Database) -> str | None:
    """When the store's first successful poll (of any source) was made: a store's first
    digest is the one after it (DESIGN section 8)."""
    row = db.execute("SELECT min(at) FROM fetches WHERE status != 'failed'").fetchone()
    return str(row[0]) if row and row[0] else None


@dataclass(frozen=True)
class Span:
    """What a source's polls in [start, end) said: for the digest's source health."""

    polls: int
    failed: int
    errors: list[str]
    rejected: list[dict[str, str]]
    suspicious: dict[str, str]  # benchmark -> reason, the latest in the span
    members_failed: dict[str, str]  # members that failed alone: benchmark -> reason
    unknown: list[str]  # members whose unit is unknown, new in the span (once per change)


def span(db: Database, source: str, start: str, end: str) -> Span:
    counts = dict(db.execute(
        "SELECT status, count(*) FROM fetches WHERE source = ? AND at >= ? AND at < ?"
        " GROUP BY status", [source, start, end]).fetchall())
    errors = [e for (e,) in db.execute(
        "SELECT DISTINCT error FROM fetches WHERE source = ? AND status = 'failed'"
        " AND at >= ? AND at < ? ORDER BY error", [source, start, end])]
    rejected: list[dict[str, str]] = []
    suspicious: dict[str, str] = {}
    failed: dict[str, str] = {}
    for items, flags in db.execute(
        "SELECT rejected, suspicious FROM fetches WHERE source = ? AND at >= ? AND at < ?"
        " AND (rejected IS NOT NULL OR suspicious IS NOT NULL) ORDER BY at, id",
            [source, start, end]):
        rejected.extend(json.loads(items or "[]"))
        for flag in json.loads(flags or "[]"):
            (failed if flag.get("failed") else suspicious)[flag["benchmark"]] = flag["reason"]
    # Unknown members are news once: when a poll names one its previous poll did not.
    unknown: list[str] = []
    before = db.execute("SELECT notes FROM fetches WHERE source = ? AND status != 'failed'"
                        " AND at < ? ORDER BY at DESC, id DESC LIMIT 1", [source, start]
                        ).fetchone()
    known = set(json.loads(before[0] or "{}").get("unknown", [])) if before else set()
    for (text,) in db.execute("SELECT notes FROM fetches WHERE source = ? AND status != 'failed'"
                              " AND at >= ? AND at < ? ORDER BY at, id", [source, start, end]):
        now = json.loads(text or "{}").get("unknown", [])
        unknown += [member for member in now if member not in known and member not in unknown]
        known = set(now)
    return Span(sum(counts.values()), counts.get("failed", 0), errors, rejected, suspicious,
                failed, unknown)


def notes(db: Database, source: str) -> dict[str, Any]:
    """What the source's last successful poll said besides rows: members that failed alone,
    members whose unit is unknown, rows skipped, dates after the poll."""
    row = db.execute("SELECT notes FROM fetches WHERE source = ? AND status != 'failed'"
                     " ORDER BY at DESC, id DESC LIMIT 1", [source]).fetchone()
    return dict(json.loads(row[0])) if row and row[0] else {}
