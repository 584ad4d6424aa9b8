"""The state of the art (DESIGN section 3): what one source's polls at or before a moment saw,
indexed so that "the best qualifying row of a claim's window" is one binary search, and the
one rule for whether a decision's evidence still holds.

``SourceView(db, source, at)`` is read-only; the lifecycle (``resolver.lifecycle``) and the
digest's sections read it alike.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from resolver.claims import Claim
from resolver.filters import Filter
from state.db import Database
from state.records import Decision, Evidence, LateDecision
from state.rows import Row, Version, polls_as_of, rows_as_of


@dataclass(slots=True)
class Candidate:
    """A row with the version of it that counts."""

    row: Row
    version: Version

    @property
    def value(self) -> float:
        return self.version.value

    def evidence(self, source: str) -> Evidence:
        row, version = self.row, self.version
        return Evidence(source, row.benchmark, row.key, version.subject, version.value,
                        version.n, version.result_date, version.first_seen, version.url,
                        version.sha256)


_Index = tuple[list[str], list[Candidate], list[int]]


class SourceView:
    """Everything one source's polls at or before ``at`` saw, indexed for state-of-the-art
    queries: per (benchmark, filters), qualifying rows sorted by result date with a running
    maximum, so that a ``by`` window is one binary search."""

    def __init__(self, db: Database, source: str, at: str) -> None:
        self.source = source
        self.rows = rows_as_of(db, source, at)
        self.polls = polls_as_of(db, source, at)
        self.poll_times = [poll.at for poll in self.polls]
        self.by_id = {row.id: row for rows in self.rows.values() for row in rows}
        self._index: dict[tuple[str, tuple[Filter, ...]], _Index] = {}
        self._best: dict[tuple[object, ...], Candidate | None] = {}
        self._by_date: dict[str, tuple[list[Candidate], list[int], dict[int, object]]] = {}

    def _dated(self, benchmark: str) -> tuple[list[Candidate], list[int], dict[int, object]]:
        """The live rows of a benchmark that have a result date, sorted by it (once), with
        each row's attribute dict as a key into the distinct dicts (rows share them)."""
        dated = self._by_date.get(benchmark)
        if dated is None:
            rows = [Candidate(row, row.versions[-1]) for row in self.rows.get(benchmark, ())
                    if not row.retracted and row.versions[-1].result_date is not None]
            rows.sort(key=lambda c: (c.version.result_date or "", c.row.key))
            keys = [id(c.version.attributes) for c in rows]
            distinct: dict[int, object] = {id(c.version.attributes): c.version.attributes
                                           for c in rows}
            dated = self._by_date[benchmark] = (rows, keys, distinct)
        return dated

    def _sorted(self, claim: Claim) -> _Index:
        key = (claim.benchmark, claim.row_filters)
        index = self._index.get(key)
        if index is None:
            rows, keys, distinct = self._dated(claim.benchmark)
            by_attributes = tuple(f for f in claim.row_filters if f.name != "model")
            by_subject = tuple(f for f in claim.row_filters if f.name == "model")
            if by_attributes:
                ok = {k: all(f.matches(a, "") for f in by_attributes)  # type: ignore[arg-type]
                      for k, a in distinct.items()}
                candidates = [c for c, k in zip(rows, keys, strict=True) if ok[k]]
            else:
                candidates = list(rows)
            if by_subject:
                candidates = [c for c in candidates if all(
                    f.matches(c.version.attributes, c.version.subject) for f in by_subject)]
            dates = [c.version.result_date or "" for c in candidates]
            running: list[int] = []  # index of the best candidate among the first i+1
            best_value, best_at = -math.inf, -1
            for i, candidate in enumerate(candidates):
                if candidate.version.value > best_value:
                    best_value, best_at = candidate.version.value, i
                running.append(best_at)
            index = self._index[key] = (dates, candidates, running)
        return index

    def best(self, claim: Claim, start: dt.date | None, end: dt.date) -> Candidate | None:
        """The qualifying row with the highest value in [start, end). Claims that share a
        benchmark, filters, date basis and window share the answer."""
        key = (claim.benchmark, claim.row_filters, claim.basis, start, end)
        if key not in self._best:
            self._best[key] = self._find_best(claim, start, end)
        return self._best[key]

    def best_in_window(self, claim: Claim) -> Candidate | None:
        return self.best(claim, claim.start, claim.end)

    def _find_best(self, claim: Claim, start: dt.date | None,
                   end: dt.date) -> Candidate | None:
        if claim.basis == "first-seen":
            return self._best_first_seen(claim, start, end)
        dates, candidates, running = self._sorted(claim)
        stop = bisect.bisect_left(dates, end.isoformat())
        if start is None:
            return candidates[running[stop - 1]] if stop else None
        first = bisect.bisect_left(dates, start.isoformat())
        window = candidates[first:stop]
        return max(window, key=lambda c: c.value) if window else None

    def _best_first_seen(self, claim: Claim, start: dt.date | None,
                         end: dt.date) -> Candidate | None:
        low, high = (start.isoformat() if start else ""), end.isoformat()
        best = None
        for row in self.rows.get(claim.benchmark, ()):
            if row.retracted:
                continue
            # The row counts with its latest version first seen inside the window.
            for version in reversed(row.versions):
                if version.first_seen < high:
                    if (version.first_seen >= low and (best is None or version.value > best.value)
                            and _passes(claim, version)):
                        best = Candidate(row, version)
                    break
        return best


class Views:
    """The view of each source at one moment, built once per source when first asked."""

    def __init__(self, db: Database, at: str) -> None:
        self.db, self.at = db, at
        self._views: dict[str, SourceView] = {}

    def __call__(self, source: str) -> SourceView:
        view = self._views.get(source)
        if view is None:
            view = self._views[source] = SourceView(self.db, source, self.at)
        return view

    def add(self, view: SourceView) -> None:
        """Use a view the caller built already (of this moment) for its source."""
        self._views[view.source] = view


def _passes(claim: Claim, version: Version) -> bool:
    return all(f.matches(version.attributes, version.subject) for f in claim.row_filters)


def qualifying_version(claim: Claim, row: Row, start: dt.date | None,
                       end: dt.date) -> Version | None:
    """The version of ``row`` that counts for ``claim`` in [start, end), if any."""
    if row.retracted:
        return None
    if claim.basis == "first-seen":
        low = start.isoformat() if start else ""
        high = end.isoformat()
        for version in reversed(row.versions):
            if low <= version.first_seen < high:
                return version if _passes(claim, version) else None
        return None
    version = row.latest
    date = version.result_date
    if date is None or date >= end.isoformat() or (start and date < start.isoformat()):
        return None
    return version if _passes(claim, version) else None


@dataclass(frozen=True, slots=True)
class Broken:
    """Why a decision's evidence no longer holds (DESIGN section 4)."""

    why: Literal["gone", "retracted", "disqualified", "revised", "crossed"]
    row: Row | None = None
    version: Version | None = None  # the qualifying version, when revised
    best: Candidate | None = None  # the crossing row, when a late outcome is broken


def still_holds(claim: Claim, deciding: Decision, view: SourceView,
                threshold: float) -> Broken | None:
    """None while the evidence of a decision still supports it: its deciding row still
    qualifies and crosses, or (for a late outcome) still nothing crosses."""
    if isinstance(deciding, LateDecision):
        best = view.best_in_window(claim)
        if best is not None and claim.crosses(best.value, threshold):
            return Broken("crossed", best=best)
        return None
    row = view.by_id.get(deciding.observation_id)
    if row is None:
        return Broken("gone")
    version = qualifying_version(claim, row, claim.start, claim.end)
    if version is not None and claim.crosses(version.value, threshold):
        return None
    if row.retracted:
        return Broken("retracted", row)
    return Broken("disqualified" if version is None else "revised", row, version)


@dataclass(frozen=True, slots=True)
class Corroboration:
    source: str
    filters_applied: bool  # False: the other source lacks some of the claim's filters
    best: Evidence | None


def corroboration(db: Database, claim: Claim, benchmarks: Mapping[str, Mapping[str, object]],
                  at: str) -> list[Corroboration]:
    """What the other sources of the claim's benchmark say for its window: shown beside a
    decision, never mixed into it. ``benchmarks`` maps each enabled source to the attributes
    it states for the claim's benchmark. Filters another source does not state are dropped
    (and said so)."""
    result = []
    for name, attributes in benchmarks.items():
        if name == claim.source:
            continue
        kept = tuple(f for f in claim.row_filters if f.name == "model" or f.name in attributes)
        other = dataclasses.replace(claim, source=name, row_filters=kept)
        best = SourceView(db, name, at).best_in_window(other)
        result.append(Corroboration(name, kept == claim.row_filters,
                                    best.evidence(name) if best else None))
    return result
