"""The state-of-the-art index (DESIGN sections 3 and 10): per benchmark, its dated live rows
sorted by (result date, observation id) in parallel arrays; per (benchmark, filters), the
qualifying ones with a running maximum, so that the best row before a date is one binary
search and the best inside a window one slice.

An index is built once, as the store holds a source now or as its polls at a past moment
saw it. The daemon keeps the index of each source (``kept``) and brings it up to date with
what each later poll changed (new versions, retractions, restorations) instead of building
it again; the answers it gave are kept too, and forgotten only where a changed row falls.
No SQL here: ``state.rows`` reads.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import compress
from operator import and_
from typing import Any

from resolver import collector
from resolver.series import Attributes, Benchmark, Filters, Qualifying, Seen, qualifying_index
from state.db import Database
from state.rows import (
    Change,
    Mark,
    Poll,
    benchmarks_of,
    changes_since,
    holds,
    index_rows,
    latest_mark,
    polls_as_of,
    seen_rows,
    store_key,
    subjects_of,
)

_ALWAYS = "9999-12-31T23:59:59Z"


@dataclass(frozen=True, slots=True)
class Found:
    """The best qualifying row: its value and the ids of the rows that tie for it (the same
    value on the same earliest date; the caller orders them by key)."""

    value: float
    oids: tuple[int, ...]
    n: int | None = None  # the version that counts, when not the latest (first-seen basis)


Key = tuple[str, Filters, str, Any, Any]  # benchmark, filters, basis, start, end


@dataclass
class Index:
    source: str
    mark: Mark | None
    polls: list[Poll]
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    attributes: list[Attributes] = field(default_factory=list)  # by attribute id
    attribute_ids: dict[str, int] = field(default_factory=dict)  # JSON text -> id
    qualifying: dict[str, dict[Filters, Qualifying]] = field(default_factory=dict)
    answers: dict[str, dict[Key, Found | None]] = field(default_factory=dict)  # by benchmark
    poll_times: list[str] = field(default_factory=list)
    # Where subjects come from (the store, at the index's moment), for model filters.
    subjects_from: Callable[[str], dict[int, str]] | None = None
    seen: dict[str, Seen] = field(default_factory=dict)  # read when a first-seen claim asks
    seen_from: Callable[[str], list[tuple[int, str, float, str, str]]] | None = None

    def __post_init__(self) -> None:
        self.poll_times = [poll.at for poll in self.polls]

    @property
    def size(self) -> int:
        return sum(len(b.oids) for b in self.benchmarks.values())

    def attribute_id(self, text: str) -> int:
        found = self.attribute_ids.get(text)
        if found is None:
            found = self.attribute_ids[text] = len(self.attributes)
            self.attributes.append(json.loads(text))
        return found

    # -- queries ---------------------------------------------------------------------------

    def rows(self, benchmark: str, filters: Filters) -> Qualifying | None:
        by_filters = self.qualifying.setdefault(benchmark, {})
        found = by_filters.get(filters)
        if found is None:
            rows = self.benchmarks.get(benchmark)
            if rows is None:
                return None
            mask = self._mask(benchmark, rows, filters)
            if mask is None:
                found = Qualifying(list(rows.dates), array("q", rows.oids),
                                    array("d", rows.values))
            else:
                found = Qualifying(list(compress(rows.dates, mask)),
                                    array("q", compress(rows.oids, mask)),
                                    array("d", compress(rows.values, mask)))
            by_filters[filters] = found
        return found

    def _mask(self, benchmark: str, rows: Benchmark, filters: Filters) -> list[bool] | None:
        by_attributes = [f for f in filters if f.name != "model"]
        by_subject = [f for f in filters if f.name == "model"]
        mask: list[bool] | None = None
        if by_attributes:
            ok = [all(f.matches(a, "") for f in by_attributes) for a in self.attributes]
            mask = list(map(ok.__getitem__, rows.attrs))
        if by_subject:
            if rows.subjects is None:
                assert self.subjects_from is not None
                subjects = self.subjects_from(benchmark)
                rows.subjects = list(map(subjects.__getitem__, rows.oids))
            named = [all(f.matches({}, s) for f in by_subject) for s in rows.subjects]
            mask = named if mask is None else list(map(and_, mask, named))
        return mask

    def passes(self, filters: Filters, attributes: Attributes, subject: str) -> bool:
        return all(f.matches(attributes, subject) for f in filters)

    def best(self, benchmark: str, filters: Filters, start: str | None,
             end: str) -> Found | None:
        """The best row dated in [start, end) that passes ``filters``."""
        rows = self.rows(benchmark, filters)
        if rows is None:
            return None
        stop = bisect_left(rows.dates, end)
        if start is None:
            if stop == 0:
                return None
            value = rows.running[stop - 1]
            first = bisect_left(rows.running, value, 0, stop)
        else:
            low = bisect_left(rows.dates, start)
            if low >= stop:
                return None
            value = max(rows.values[low:stop])
            first = rows.values.index(value, low, stop)
        date, ties = rows.dates[first], [rows.oids[first]]
        i = first + 1
        while i < stop and rows.dates[i] == date:
            if rows.values[i] == value:
                ties.append(rows.oids[i])
            i += 1
        return Found(value, tuple(ties))

    def best_seen(self, benchmark: str, filters: Filters, start: str | None,
                  end: str) -> tuple[bool, Found | None]:
        """For a first-seen window ending after the latest poll (every version counts at its
        latest): (True, the best row whose latest version was first seen from ``start`` on,
        ties to the smallest id). (False, None) for a window that ended: the caller reads the
        versions from the store."""
        if self.polls and self.polls[-1].at >= end:
            return False, None
        rows = self.seen.get(benchmark)
        if rows is None:
            assert self.seen_from is not None
            found = self.seen_from(benchmark)
            rows = self.seen[benchmark] = Seen(
                [sys.intern(row[1]) for row in found], array("q", (row[0] for row in found)),
                array("d", (row[2] for row in found)),
                [self.attributes[self.attribute_id(row[3])] for row in found],
                [row[4] for row in found])
        low = bisect_left(rows.dates, start) if start else 0
        mask = rows.mask(filters)
        values = array("d", compress(rows.values[low:], mask[low:]))
        if not values:
            return True, None
        value = max(values)
        ties = [oid for oid, v, ok in zip(rows.oids[low:], rows.values[low:], mask[low:],
                                          strict=True) if ok and v == value] \
            if values.count(value) > 1 else [rows.oids[qualifying_index(rows, mask, value,
                                                                          low)]]
        return True, Found(value, (min(ties),))

    def lookup(self, benchmark: str, filters: Filters, start: str | None,
               end: str) -> Found | None:
        """``best``, answered from the answers kept since the last change that touched it."""
        key = (benchmark, filters, "result", start, end)
        known, found = self.answer(key)
        if not known:
            found = self.best(benchmark, filters, start, end)
            self.remember(key, found)
        return found

    def answer(self, key: Key) -> tuple[bool, Found | None]:
        cached = self.answers.get(key[0])
        if cached is None or key not in cached:
            return False, None
        return True, cached[key]

    def remember(self, key: Key, found: Found | None) -> None:
        self.answers.setdefault(key[0], {})[key] = found

    # -- keeping it up to date -------------------------------------------------------------

    def apply(self, changes: Iterable[Change], polls: list[Poll], mark: Mark | None) -> None:
        """Take in what fetches after ``self.mark`` changed, up to ``mark``."""
        for change in changes:
            self._apply(change)
        self.polls.extend(polls)
        self.poll_times.extend(poll.at for poll in polls)
        self.mark = mark

    def _apply(self, c: Change) -> None:
        answers = self.answers.get(c.benchmark, {})
        for key in [k for k in answers if k[2] == "first-seen"]:
            del answers[key]  # any change of a row may move them, undated rows too
        seen = self.seen.get(c.benchmark)
        if seen is not None:
            if c.old_first_seen is not None:
                seen.remove(c.old_first_seen, c.observation_id)
            if c.live:
                seen.put(sys.intern(c.first_seen), c.observation_id, c.value,
                         self.attributes[self.attribute_id(c.attributes)], c.subject)
        rows = self.benchmarks.get(c.benchmark)
        old = None
        if c.old_date is not None and rows is not None:
            i = rows.find(c.old_date, c.observation_id)
            if i >= 0:
                old = (c.old_date, rows.values[i], self.attributes[rows.attrs[i]],
                       c.old_subject or "")
                rows.delete(i)
        new = None
        if c.live and c.result_date is not None:
            if rows is None:
                rows = self.benchmarks[c.benchmark] = Benchmark(
                    [], array("q"), array("d"), array("I"))
            attr = self.attribute_id(c.attributes)
            date = sys.intern(c.result_date)
            if rows.find(date, c.observation_id) < 0:  # never twice
                rows.insert_row(rows.place(date, c.observation_id), date, c.observation_id,
                                c.value, attr, c.subject)
            new = (date, c.value, self.attributes[attr], c.subject)
        if old is None and new is None:
            return
        for filters, qualifying in self.qualifying.get(c.benchmark, {}).items():
            if old is not None and self.passes(filters, old[2], old[3]):
                i = qualifying.find(old[0], c.observation_id)
                if i >= 0:
                    qualifying.delete(i)
            if (new is not None and self.passes(filters, new[2], new[3])
                    and qualifying.find(new[0], c.observation_id) < 0):
                qualifying.insert(qualifying.place(new[0], c.observation_id), new[0],
                                  c.observation_id, new[1])
        for key in [k for k in answers if _touches(self, k, old) or _touches(self, k, new)]:
            del answers[key]


def _touches(index: Index, key: Key, row: tuple[str, float, Attributes, str] | None) -> bool:
    """Whether a row, before or after a change, could be (or have been) a key's answer."""
    if row is None:
        return False
    _benchmark, filters, _basis, start, end = key
    date = row[0]
    return ((start is None or date >= start) and date < end
            and index.passes(filters, row[2], row[3]))


def build(db: Database, source: str, at: str | None) -> Index:
    """The index of ``source`` as the store holds it now (``at`` None), or as polls at or
    before ``at`` saw it."""
    index = Index(source, latest_mark(db, source) if at is None else None,
                  polls_as_of(db, source, at or _ALWAYS))
    index.subjects_from = functools.partial(subjects_of, db, source, at=at)
    index.seen_from = functools.partial(seen_rows, db, source, at=at)
    with collector.paused():
        for benchmark in benchmarks_of(db, source):
            found = index_rows(db, source, benchmark, at)
            if found:
                index.benchmarks[benchmark] = _columns(index, found)
    return index


def _columns(index: Index, found: list[tuple[int, str, float, str]]) -> Benchmark:
    oids, dates, values, attributes = zip(*found, strict=True)
    ids = index.attribute_ids
    for text in dict.fromkeys(attributes):
        if text not in ids:
            index.attribute_id(text)
    return Benchmark(list(map(sys.intern, dates)), array("q", oids), array("d", values),
                      array("I", map(ids.__getitem__, attributes)))


# -- the indexes the daemon keeps, one per (store, source) ---------------------------------

_KEPT: dict[tuple[str, str], Index] = {}
_KEPT_LOCK = threading.Lock()
REBUILD_SHARE = 20  # a poll changing more than 1/20 of the rows: build again instead
KEPT_MAX = 64  # indexes kept at most (a daemon keeps one per source)


def kept(db: Database, source: str) -> Index | None:
    """The kept index of ``source``, brought up to what the store holds now; None when the
    store cannot keep one (not in a write transaction, which makes the reads one snapshot
    and keeps two writers apart; a store in memory)."""
    store = store_key(db)
    if store is None or not db.writing:
        return None
    key = (store, source)
    with _KEPT_LOCK:
        index = _KEPT.pop(key, None)
    db.on_rollback.append(lambda: forget(key))
    mark = latest_mark(db, source)
    if index is not None and index.mark != mark:
        index = _caught_up(db, index, mark)
    if index is None:
        index = build(db, source, None)
        with _KEPT_LOCK:
            while len(_KEPT) >= KEPT_MAX:  # stores this process no longer uses, oldest first
                del _KEPT[next(iter(_KEPT))]
    index.subjects_from = functools.partial(subjects_of, db, source, at=None)
    index.seen_from = functools.partial(seen_rows, db, source, at=None)
    with _KEPT_LOCK:
        _KEPT[key] = index
    return index


def _caught_up(db: Database, index: Index, mark: Mark | None) -> Index | None:
    if (index.mark is None or mark is None or mark.fetch_id < index.mark.fetch_id
            or not holds(db, index.source, index.mark)):
        return None  # a rolled-back poll, a restored backup: build again
    changes = changes_since(db, index.source, index.mark,
                            limit=max(1000, index.size // REBUILD_SHARE))
    if changes is None:
        return None
    index.apply(changes, polls_as_of(db, index.source, _ALWAYS, after=index.mark.fetch_id),
                mark)
    return index


def forget(key: tuple[str, str] | None = None) -> None:
    """Drop a kept index (all of them without ``key``)."""
    with _KEPT_LOCK:
        if key is None:
            _KEPT.clear()
        else:
            _KEPT.pop(key, None)
