"""What every source kind produces: observations, rejections, and payload errors.

A source kind is a pure function ``parse(body, headers) -> Snapshot``. It never touches
the network or the database; that keeps every parser testable on recorded bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AttrValue = bool | int | float | str


class PayloadError(Exception):
    """The payload cannot be used at all: it does not parse, lacks required columns, or
    yields nothing. The poll counts as a failed fetch and nothing is ingested."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


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
class Report:
    """A publication (a METR report or post): no number, an event for the digest."""

    key: str  # stable across re-sent items and translations
    title: str
    link: str
    published: str | None  # ISO date


@dataclass(slots=True)
class Snapshot:
    """Everything one payload says, per benchmark."""

    observations: list[Observation] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)

    def value(self, benchmark: str, key: str, subject: str, raw: Any, *, unit: str,
              column: str, scale: float = 1) -> float | None:
        """The measurement in ``raw`` (times ``scale``), or None after recording why the row
        is rejected: not a number, or outside the unit's range."""
        number = as_float(raw)
        if number is None:
            reason = f"{column} is not a number: {raw!r}"
        elif problem := range_problem(number * scale, unit):
            reason = (problem if scale == 1
                      else f"{column} {number:g} is not a fraction from 0 to 1")
        else:
            return number * scale
        self.rejections.append(Rejection(benchmark, key, subject, reason))
        return None


def as_float(raw: Any) -> float | None:
    """A number from a payload cell, or None. Booleans are not numbers; '~ 15.5' is 15.5."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)  # surrounding whitespace is fine
        except ValueError:
            pass
        try:
            return float(raw.strip().lstrip("~"))
        except ValueError:
            return None
    return None


# Ranges of each unit: values outside are rejected, never stored.
UNIT_RANGES: dict[str, tuple[float, float]] = {
    "%": (0.0, 100.0),
    "min": (0.0, math.inf),
}


def range_problem(value: float, unit: str) -> str | None:
    """Why ``value`` cannot be a measurement in ``unit``, or None when it can."""
    low, high = UNIT_RANGES[unit]
    if math.isnan(value) or not low <= value <= high:
        shown = "percent" if unit == "%" else "minutes"
        return f"value {value:g} is outside the range of {shown} ({low:g} to {high:g})"
    return None

