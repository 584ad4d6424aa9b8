"""What every source kind produces: observations, rejections, and payload errors.

A source kind parses ``body, headers`` (and its options) into a ``Snapshot`` (the contract
is ``sources.kinds.SourceKind``). It never touches the network or the database; that keeps
every parser testable on recorded bytes.

Errors: ``PayloadError`` (this payload cannot be used: a failed fetch), ``OverLimit`` (a
``PayloadError`` for a payload over max_bytes, never a member's failure alone) and
``OptionsError`` (a source's options are wrong: a config mistake, found at start).

Payloads are untrusted (DESIGN section 15). The helpers here are what every kind shares to stay
so: ``finite`` numbers only, one ``result_date`` rule, ``safe_link`` for links, ``shown`` for
quoting a hostile cell in a reason, and ``check_size``, the bound on a payload's size (zip
members are inflated under it by ``sources.zips.ZipReader``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

AttrValue = bool | int | float | str
Unit = Literal["%", "min", "pts"]
UNITS: tuple[Unit, ...] = ("%", "min", "pts")

# The default bound on a payload's decoded size; the poller passes the configured max_payload.
MAX_BYTES = 64 * 1024 * 1024


class PayloadError(Exception):
    """The payload cannot be used at all: it does not parse, lacks required columns, or
    yields nothing. The poll counts as a failed fetch and nothing is ingested."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class OverLimit(PayloadError):
    """The payload, or what it inflates to, is over max_bytes: the whole payload is refused
    (a zip member over the budget never fails alone)."""


class OptionsError(Exception):
    """A source's options are wrong (an unknown unit, a missing field name): a config
    mistake, reported at start as one line naming the field."""

    def __init__(self, field: str, problem: str, *, source: str | None = None) -> None:
        self.field = field
        self.problem = " ".join(problem.split())  # one line, whatever it quotes
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"sources.{self.source}.{self.field}" if self.source else self.field
        return f"{where}: {self.problem}"

    def within(self, source: str) -> OptionsError:
        """The same mistake, named as the setting of ``source``."""
        return OptionsError(self.field, self.problem, source=source)


@dataclass(slots=True)
class Observation:
    """One row of one source, as the source states it. (Not frozen: a frozen dataclass pays
    an object.__setattr__ per field, which shows on payloads of thousands of rows.)"""

    benchmark: str
    key: str
    subject: str
    value: float
    result_date: str | None  # ISO date, or None when the source gives no parseable date
    ci_low: float | None = None
    ci_high: float | None = None
    # Attributes the row states. An attribute that is absent is unknown.
    attributes: Mapping[str, AttrValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was refused (out of range, unparseable value), with the reason."""

    benchmark: str
    key: str
    subject: str
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A row (or a group of rows) dropped without a key to reject it under: no key, a
    duplicate key, not an object. ``benchmark`` is "" when the row names none (a feed item,
    a METR model that would have yielded both metrics)."""

    benchmark: str
    reason: str  # one line that says where: "os_world_external.csv line 7: no key, skipped"


@dataclass(frozen=True, slots=True)
class Report:
    """A publication (a METR report or post): no number, an event for the digest."""

    key: str  # stable across re-sent items and translations
    title: str
    link: str  # http(s) only, else ""
    published: str | None  # ISO date


@dataclass(slots=True)
class Snapshot:
    """Everything one payload says, per benchmark.

    Besides rows and rejections: ``failed`` names the benchmarks whose part of the payload
    could not be read (an Epoch member without its value column), with the reason: health
    is per member, so the store leaves their rows untouched; ``unknown`` lists parts the
    kind cannot read yet (an Epoch member whose unit it does not know); ``skipped`` the rows
    dropped without a key; ``blank`` counts, per benchmark, rows whose value is blank (not a
    result, not reported)."""

    observations: list[Observation] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    blank: dict[str, int] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """The reasons of ``skipped`` (the old name; read ``skipped``)."""
        return [skip.reason for skip in self.skipped]

    def skip(self, benchmark: str, reason: str) -> None:
        self.skipped.append(Skipped(benchmark, reason))

    def extend(self, other: Snapshot) -> None:
        """Add what ``other`` holds (a part read on its own, such as an Epoch member)."""
        self.observations.extend(other.observations)
        self.rejections.extend(other.rejections)
        self.reports.extend(other.reports)
        self.failed.update(other.failed)
        self.unknown.extend(other.unknown)
        self.skipped.extend(other.skipped)
        for benchmark, count in other.blank.items():
            self.blank[benchmark] = self.blank.get(benchmark, 0) + count

    def value(self, benchmark: str, key: str, subject: str, raw: Any, *, unit: Unit,
              column: str, scale: float = 1) -> float | None:
        """The measurement in ``raw`` (times ``scale``), or None after recording why the row
        is rejected: not a number, not finite, or outside the unit's range."""
        number = as_number(raw)
        if number is None:
            reason = f"{column} is not a number: {shown(raw)}"
        elif not math.isfinite(number) or not math.isfinite(number * scale):
            reason = f"{column} is not a finite number: {shown(raw)}"
        elif problem := range_problem(number * scale, unit):
            reason = (f"{column} {number:g} is not a fraction from 0 to 1"
                      if unit == "%" and scale == 100 else problem)
        else:
            return number * scale
        self.rejections.append(Rejection(benchmark, key, subject, reason))
        return None


def as_number(raw: Any) -> float | None:
    """A number from a payload cell, infinities and NaN included, or None. Booleans are not
    numbers; '~ 15.5' is 15.5; a 400-digit integer is infinite."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, float):
        return raw
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:  # an integer of 400 digits
            return math.inf if raw > 0 else -math.inf
    if isinstance(raw, str) and len(raw) <= 100:
        try:
            return float(raw)  # surrounding whitespace is fine
        except ValueError:
            pass
        try:
            return float(raw.strip().lstrip("~"))
        except ValueError:
            return None
    return None


def as_float(raw: Any) -> float | None:
    """A finite number from a payload cell, or None. Booleans are not numbers; '~ 15.5' is
    15.5; NaN, infinities and '1e400' are not numbers either."""
    number = as_number(raw)
    return number if number is not None and math.isfinite(number) else None


# Ranges of each unit: values outside are rejected, never stored. A horizon is positive;
# points (an Elo, an index) are any finite number.
UNIT_RANGES: dict[Unit, tuple[float, float]] = {
    "%": (0.0, 100.0),
    "min": (0.0, 1e6),
    "pts": (-math.inf, math.inf),
}
_OPEN_BELOW = {"min"}  # 0 minutes is not a horizon


def range_problem(value: float, unit: Unit) -> str | None:
    """Why ``value`` cannot be a measurement in ``unit``, or None when it can."""
    low, high = UNIT_RANGES[unit]
    if not math.isfinite(value):
        return f"value {value:g} is not a finite number"
    if unit == "pts":
        return None
    if unit in _OPEN_BELOW:
        if not low < value <= high:
            return (f"value {value:g} is outside the range of minutes (above {low:.15g}, "
                    f"at most {high:.15g})")
    elif not low <= value <= high:
        return f"value {value:g} is outside the range of percent ({low:.15g} to {high:.15g})"
    return None


def shown(raw: Any, limit: int = 60) -> str:
    """A cell quoted for a one-line reason: short, and never the repr of a deep structure."""
    if isinstance(raw, str):
        return repr(raw if len(raw) <= limit else raw[:limit] + "...")
    if raw is None or isinstance(raw, bool | float):
        return repr(raw)
    if isinstance(raw, int):
        return repr(raw) if raw.bit_length() < 128 else "a huge integer"
    return f"a {type(raw).__name__}"


def text(raw: Any) -> str | None:
    """A name from a payload (a model, a folder, a scaffold): strings and plain numbers
    only, never the str() of a nested structure."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    return None


# -- dates -----------------------------------------------------------------------------------

EARLIEST = dt.date(1990, 1, 1)  # an earlier result date is not parseable


def result_date(raw: Any, *, formats: tuple[str, ...] = ()) -> str | None:
    """The ISO date of a result, or None when it is not parseable. Takes a date, a datetime
    or text: ISO (``2025-07-31``, ``2025-07-31T23:30:00-05:00``) or one of ``formats``
    (strptime). A time with an offset is converted to UTC before its date is taken; a naive
    time is UTC. A date before 1990 is not parseable. (The upper bound, "later than the day
    after the poll", is the poller's: parse does not know the poll time.)"""
    if isinstance(raw, dt.datetime):
        return _moment(raw)
    if isinstance(raw, dt.date):
        return raw.isoformat() if raw >= EARLIEST else None
    if isinstance(raw, str) and len(raw) <= 64:
        return _date_text(raw, formats)
    return None


def _moment(moment: dt.datetime) -> str | None:
    if moment.utcoffset() is not None:
        try:
            moment = moment.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            return None
    day = moment.date()
    return day.isoformat() if day >= EARLIEST else None


@functools.lru_cache(maxsize=4096)
def _date_text(raw: str, formats: tuple[str, ...]) -> str | None:
    text = raw.strip()
    if len(text) > 10 and text[10] in "Tt " and text[11:12].isdigit():
        try:  # a time: its offset decides the UTC date, so it must parse whole
            return _moment(dt.datetime.fromisoformat(text))
        except ValueError:
            return None
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        for form in formats:
            try:
                day = dt.datetime.strptime(text, form).date()  # noqa: DTZ007 (a date)
                break
            except ValueError:
                continue
        else:
            return None
    return day.isoformat() if day >= EARLIEST else None


# -- links -----------------------------------------------------------------------------------

def safe_link(raw: Any) -> str:
    """A link from a source, kept only when it is http: or https: with a host (else "")."""
    if not isinstance(raw, str):
        return ""
    link = raw.strip()
    scheme, colon, rest = link.partition(":")
    if not colon or scheme.lower() not in ("http", "https") or not rest.startswith("//"):
        return ""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in link):
        return ""
    host = rest[2:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return link if host.strip("@:") else ""


# -- payload size ----------------------------------------------------------------------------

def check_size(body: bytes, max_bytes: int) -> None:
    """Refuse a body over the payload bound (a --from-file poll has no fetcher to do it)."""
    if len(body) > max_bytes:
        raise OverLimit(f"payload of {len(body)} bytes is over the {max_bytes}-byte limit "
                           "(max_payload)")
