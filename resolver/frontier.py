"""A benchmark's frontier (DESIGN section 12): the records among its rows as of a moment,
that is, per distinct date the best row that counts then (the version seen by then, dated by
its result date or the day it was first seen, passing the claim's filters), kept when it
beats every earlier date's best. Pure over ``state.rows.Row``s; ``resolver.trend`` fits its
trend to these points.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from resolver.filters import Filter
from state.records import JSON
from state.rows import Row, Version


@dataclass(frozen=True, slots=True)
class Point:
    """A frontier row: the version of a row that counts, and its date by the claim's basis."""

    key: str
    subject: str
    value: float
    date: dt.date
    result_date: str | None

    def to_json(self) -> JSON:
        return {"key": self.key, "subject": self.subject, "value": self.value,
                "result_date": self.result_date, "date": self.date.isoformat()}


def counting_version(row: Row, filters: Sequence[Filter], basis: str,
                     at: str) -> tuple[Version, str] | None:
    """The version of ``row`` that counts as of ``at`` and its date (``YYYY-MM-DD``), as
    ``resolver.sota.qualifying_version`` rules for a window ending at ``at``: the latest
    version seen by then, dated by its result date or the day it was first seen; retracted
    rows, rows without a date and versions that fail a filter do not count."""
    if row.retracted:
        return None
    version = next((v for v in reversed(row.versions) if v.first_seen <= at), None)
    if version is None:
        return None
    date = version.first_seen[:10] if basis == "first-seen" else version.result_date
    if date is None or date >= at:
        return None
    if not all(f.matches(version.attributes, version.subject) for f in filters):
        return None
    return version, date


def frontier(rows: Iterable[Row], *, filters: Sequence[Filter] = (), basis: str = "result",
             since: dt.date | None = None, at: str) -> list[Point]:
    """The records among ``rows`` as of ``at``: for each distinct date the best row of that
    date (ties: the smallest key), kept when it beats every earlier date's best; those dated
    from ``since`` on."""
    best_of_day: dict[str, tuple[Row, Version]] = {}
    for row in rows:
        counted = counting_version(row, filters, basis, at)
        if counted is None:
            continue
        version, date = counted
        held = best_of_day.get(date)
        if held is None or (version.value, held[0].key) > (held[1].value, row.key):
            best_of_day[date] = (row, version)
    records, best = [], -math.inf
    low = since.isoformat() if since else ""
    for date in sorted(best_of_day):
        row, version = best_of_day[date]
        if version.value > best:
            best = version.value
            if date >= low:
                records.append(Point(row.key, version.subject, version.value,
                                     dt.date.fromisoformat(date), version.result_date))
    return records
