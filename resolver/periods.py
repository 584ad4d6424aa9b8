"""A DATE of the claim language (DESIGN section 3) names a period: a day, a month, a
quarter, a half or a year, as a half-open interval of UTC dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

FIRST_YEAR, LAST_YEAR = 2000, 2199  # the years a claim's dates may name (DESIGN section 3)
_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})(?:-(\d{2}))?|Q([1-4])|H([12])))?$")


@dataclass(frozen=True)
class Period:
    """A named stretch of calendar time: [start, end) in UTC dates."""

    start: dt.date
    end: dt.date  # exclusive

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def parse_period(text: str) -> Period | None:
    match = _PERIOD.match(text)
    if not match:
        return None
    year, month, day, quarter, half = match.groups()
    y = int(year)
    if not FIRST_YEAR <= y <= LAST_YEAR:
        return None
    try:
        if day:
            start = dt.date(y, int(month), int(day))
            return Period(start, start + dt.timedelta(days=1))
        if month:
            start = dt.date(y, int(month), 1)
            return Period(start, _add_months(start, 1))
        if quarter:
            start = dt.date(y, 3 * (int(quarter) - 1) + 1, 1)
            return Period(start, _add_months(start, 3))
        if half:
            start = dt.date(y, 6 * (int(half) - 1) + 1, 1)
            return Period(start, _add_months(start, 6))
        return Period(dt.date(y, 1, 1), dt.date(y + 1, 1, 1))
    except ValueError:
        return None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def date_problem(text: str) -> str:
    match = _PERIOD.match(text)
    if match and not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        return f"the year of {text!r} is outside {FIRST_YEAR}-{LAST_YEAR}"
    return (f"malformed date {text!r}; use YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2 "
            "or YYYY")
