"""The sorted arrays the state-of-the-art index (``resolver.index``) is made of: rows in
(date, observation id) order as parallel arrays, found and placed by binary search."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from itertools import accumulate

from resolver.filters import Filter
from sources.base import AttrValue

Filters = tuple[Filter, ...]
Attributes = Mapping[str, AttrValue]


class Rows:
    """Rows sorted by (result date, observation id), as parallel arrays."""

    __slots__ = ("dates", "oids", "values")

    def __init__(self, dates: list[str], oids: array[int], values: array[float]) -> None:
        self.dates, self.oids, self.values = dates, oids, values

    def find(self, date: str, oid: int) -> int:
        """Where the row is, or -1."""
        i = self.place(date, oid)
        return i if i < len(self.oids) and self.oids[i] == oid and self.dates[i] == date else -1

    def place(self, date: str, oid: int) -> int:
        low = bisect_left(self.dates, date)
        return bisect_left(self.oids, oid, low, bisect_right(self.dates, date, low))

    def insert(self, i: int, date: str, oid: int, value: float) -> None:
        self.dates.insert(i, date)
        self.oids.insert(i, oid)
        self.values.insert(i, value)

    def delete(self, i: int) -> None:
        del self.dates[i], self.oids[i], self.values[i]


class Benchmark(Rows):
    """All of a benchmark's dated live rows, with each row's attributes (an id into the
    index's distinct attribute sets) and, once a model filter asks, its subject."""

    __slots__ = ("attrs", "subjects")

    def __init__(self, dates: list[str], oids: array[int], values: array[float],
                 attrs: array[int]) -> None:
        super().__init__(dates, oids, values)
        self.attrs = attrs
        self.subjects: list[str] | None = None

    def insert_row(self, i: int, date: str, oid: int, value: float, attr: int,
                   subject: str) -> None:
        self.insert(i, date, oid, value)
        self.attrs.insert(i, attr)
        if self.subjects is not None:
            self.subjects.insert(i, subject)

    def delete(self, i: int) -> None:
        super().delete(i)
        del self.attrs[i]
        if self.subjects is not None:
            del self.subjects[i]


class Qualifying(Rows):
    """The rows that pass one filter set, with ``running[i]`` the best value of the first
    i + 1 of them."""

    __slots__ = ("running",)

    def __init__(self, dates: list[str], oids: array[int], values: array[float]) -> None:
        super().__init__(dates, oids, values)
        self.running = array("d", accumulate(values, max))

    def insert(self, i: int, date: str, oid: int, value: float) -> None:
        super().insert(i, date, oid, value)
        self.running.insert(i, value)  # made right by rerun(i)
        self.rerun(i)

    def delete(self, i: int) -> None:
        super().delete(i)
        del self.running[i]
        self.rerun(i)

    def rerun(self, i: int) -> None:
        """The running maximum again from position ``i`` on, after one row changed there:
        in growing chunks, until it meets the old running maximum (past that point, the same
        values follow the same maximum)."""
        values, running, n = self.values, self.running, len(self.values)
        before = running[i - 1] if i > 0 else -math.inf
        step = 64
        while i < n:
            stop = min(i + step, n)
            fresh = array("d", accumulate(values[i:stop], max, initial=before))[1:]
            met = fresh[-1] == running[stop - 1] and stop - 1 > i
            running[i:stop] = fresh
            if met:
                return
            before, i, step = fresh[-1], stop, step * 4


class Seen(Rows):
    """A benchmark's live rows, dated or not, sorted by (first_seen of their latest version,
    observation id), with each filter set's mask: what a first-seen window counts while no
    version is newer than the window's end. (``dates`` holds the first_seen times.)"""

    __slots__ = ("attrs", "masks", "subjects")

    def __init__(self, dates: list[str], oids: array[int], values: array[float],
                 attrs: list[Attributes], subjects: list[str]) -> None:
        super().__init__(dates, oids, values)
        self.attrs, self.subjects = attrs, subjects
        self.masks: dict[Filters, list[bool]] = {}

    def mask(self, filters: Filters) -> list[bool]:
        found = self.masks.get(filters)
        if found is None:
            found = self.masks[filters] = [all(f.matches(a, s) for f in filters)
                                           for a, s in zip(self.attrs, self.subjects,
                                                           strict=True)]
        return found

    def put(self, date: str, oid: int, value: float, attributes: Attributes,
            subject: str) -> None:
        if self.find(date, oid) >= 0:
            return
        i = self.place(date, oid)
        self.insert(i, date, oid, value)
        self.attrs.insert(i, attributes)
        self.subjects.insert(i, subject)
        for filters, mask in self.masks.items():
            mask.insert(i, all(f.matches(attributes, subject) for f in filters))

    def remove(self, date: str, oid: int) -> None:
        i = self.find(date, oid)
        if i >= 0:
            self.delete(i)
            del self.attrs[i], self.subjects[i]
            for mask in self.masks.values():
                del mask[i]


def qualifying_index(rows: Seen, mask: list[bool], value: float, low: int) -> int:
    i = rows.values.index(value, low)
    while not mask[i]:
        i = rows.values.index(value, i + 1)
    return i
