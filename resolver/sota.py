"""The state of the art (DESIGN section 3): what one source's polls at or before a moment saw,
indexed so that "the best qualifying row of a claim's window" is one binary search, and the
one rule for whether a decision's evidence still holds.

``SourceView(db, source, at)`` is read-only; the lifecycle (``resolver.lifecycle``) and the
digest's sections read it alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from resolver import index
from resolver.claims import Claim
from resolver.index import Found
from state.db import Database
from state.records import Decision, Evidence, LateDecision
from state.rows import Row, Version, first_seen_rows, keys_of, row_as_of, rows_as_of


class Candidate:
    """A row with the version of it that counts, read from the store when first asked."""

    __slots__ = ("_evidence", "_n", "_row", "_view", "oid", "value")

    def __init__(self, view: SourceView, oid: int, value: float, n: int | None = None) -> None:
        self._view, self.oid, self.value, self._n = view, oid, value, n
        self._row: Row | None = None
        self._evidence: Evidence | None = None

    @property
    def row(self) -> Row:
        if self._row is None:
            row = self._view.row(self.oid)
            assert row is not None, f"observation {self.oid} is in the index, not the store"
            self._row = row
        return self._row

    @property
    def version(self) -> Version:
        row = self.row
        if self._n is None:
            return row.latest
        return next(v for v in row.versions if v.n == self._n)

    def evidence(self, source: str) -> Evidence:
        """The row as evidence: one object for every claim this candidate decides (the
        store writes its JSON once)."""
        if self._evidence is None or self._evidence.source != source:
            row, version = self.row, self.version
            self._evidence = Evidence(source, row.benchmark, row.key, version.subject,
                                      version.value, version.n, version.result_date,
                                      version.first_seen, version.url, version.sha256)
        return self._evidence


class SourceView:
    """Everything one source's polls at or before ``at`` saw, for state-of-the-art queries
    (``resolver.index``: a ``by`` window is one binary search). ``kept`` uses the index the
    daemon keeps of the source, brought up to date, when ``at`` is not before its latest
    poll; otherwise an index of that moment is built."""

    def __init__(self, db: Database, source: str, at: str, *, kept: bool = False) -> None:
        self.db, self.source, self.at = db, source, at
        found = None
        if kept:
            found = index.kept(db, source)
            if found is not None and found.polls and found.polls[-1].at > at:
                found = None  # a moment before the latest poll: as of then
        self.index = found or index.build(db, source, at)
        # This moment's polls: a kept index goes on taking in later ones.
        self.polls, self.poll_times = self.index.polls[:], self.index.poll_times[:]
        self._rows: dict[str, list[Row]] | None = None
        self._loaded: dict[int, Row | None] = {}
        self._seen: dict[index.Key, tuple[bool, Found | None]] = {}
        # One candidate per row version: the claims it decides share its row and evidence.
        self._candidates: dict[tuple[int, int | None, float], Candidate] = {}

    @property
    def rows(self) -> dict[str, list[Row]]:
        """Every row with its versions, per benchmark (read when first asked: the charts and
        trends want them; the lifecycle does not)."""
        if self._rows is None:
            self._rows = rows_as_of(self.db, self.source, self.at)
        return self._rows

    def row(self, oid: int) -> Row | None:
        """One row as of ``at``, with its versions; None when no poll by then saw it."""
        if oid not in self._loaded:
            self._loaded[oid] = row_as_of(self.db, oid, self.at)
        return self._loaded[oid]

    def best(self, claim: Claim, start: dt.date | None, end: dt.date) -> Candidate | None:
        """The qualifying row with the highest value in [start, end); ties go to the earliest
        result date, then the smallest key. Claims that share a benchmark, filters, date basis
        and window share the answer."""
        low, high = (start.isoformat() if start else None), end.isoformat()
        if claim.basis == "first-seen":
            key = (claim.benchmark, claim.row_filters, claim.basis, low, high)
            known, found = self._seen.get(key, (False, None))
            if not known:
                known, found = self.index.best_seen(claim.benchmark, claim.row_filters, low,
                                                    high)
                if known:
                    self._seen[key] = (True, found)
            if not known:
                known, found = self.index.answer(key)
            if not known:
                found = self._best_first_seen(claim, low, high)
                self.index.remember(key, found)
        else:
            found = self.index.lookup(claim.benchmark, claim.row_filters, low, high)
        if found is None:
            return None
        oid = found.oids[0]
        if len(found.oids) > 1:
            keys = keys_of(self.db, list(found.oids))
            oid = min(found.oids, key=keys.__getitem__)
        version = (oid, found.n, found.value)
        candidate = self._candidates.get(version)
        if candidate is None:
            candidate = self._candidates[version] = Candidate(self, oid, found.value, found.n)
        return candidate

    def best_in_window(self, claim: Claim) -> Candidate | None:
        return self.best(claim, claim.start, claim.end)

    def _best_first_seen(self, claim: Claim, start: str | None, end: str) -> Found | None:
        """The row whose latest version first seen inside the window is the best of them."""
        low, best = start or "", None
        for oid, n, value, attributes, subject, first_seen in first_seen_rows(
                self.db, self.source, claim.benchmark, self.at, end):
            if first_seen >= low and (best is None or value > best.value) and all(
                    f.matches(json.loads(attributes), subject) for f in claim.row_filters):
                best = Found(value, (oid,), n)
        return best


class Views:
    """The view of each source at one moment, built once per source when first asked.
    ``kept``: the lifecycle's views, inside its write transaction, from the indexes the
    daemon keeps."""

    def __init__(self, db: Database, at: str, *, kept: bool = False) -> None:
        self.db, self.at, self.kept = db, at, kept
        self._views: dict[str, SourceView] = {}

    def __call__(self, source: str) -> SourceView:
        view = self._views.get(source)
        if view is None:
            view = self._views[source] = SourceView(self.db, source, self.at, kept=self.kept)
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
    row = view.row(deciding.observation_id)
    if row is None or row.source != view.source:
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
