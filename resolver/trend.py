"""Where open claims stand (DESIGN section 12): the trend fitted to a benchmark's frontier
(``resolver.frontier``), and the projection and pace of a claim. Each forecaster's track
record is ``resolver.scores``.

Pure functions over rows as ``SourceView`` gives them: no SQL, and time is a parameter.

    frontier(rows, filters=, basis=, since=, at=)  the records (``resolver.frontier``)
    fit(points, unit=, since=, at=)                OLS of the transformed records on the date
    Refits(points, fit, key)                       2,000 bootstrap refits of one frontier
    pace(unit, threshold, base=, best=)            how far from base to threshold the best got
    Trends(view_of)                                all of it per claim, each frontier, fit and
                                                   refit built once and shared by its claims

A projection is information, never evidence: nothing here moves a prediction.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import math
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from resolver.claims import Claim
from resolver.errors import ResolverError
from resolver.filters import Filter
from resolver.frontier import Point, frontier
from resolver.sota import SourceView
from state.records import JSON
from state.rows import Row

Transform: TypeAlias = Literal["log2", "logit", "linear"]
MIN_ROWS = 4  # a fit needs at least this many frontier rows
REFITS = 2000  # bootstrap refits per frontier
CLIP = (0.001, 0.999)  # percent is fitted as logit(clip(value / 100)); log scores clip p
YEAR_DAYS = 365.25
SINCE_YEARS = 3  # the default fit starts this many years before ``at``


class TooFewRows(ResolverError):
    def __init__(self, n: int, since: dt.date) -> None:
        self.n, self.since = n, since
        super().__init__(f"needs at least {MIN_ROWS} frontier rows to fit a trend; "
                         f"{n} since {since.isoformat()}")


# -- transforms -----------------------------------------------------------------------------


def transform_of(unit: str) -> Transform:
    """Minutes double (log2), percent saturates (logit), points are linear."""
    return "log2" if unit == "min" else "logit" if unit == "%" else "linear"


def forward(transform: Transform, value: float) -> float:
    if transform == "log2":
        return math.log2(max(value, 1e-9))
    if transform == "logit":
        p = min(max(value / 100, CLIP[0]), CLIP[1])
        return math.log(p / (1 - p))
    return value


def inverse(transform: Transform, y: float) -> float:
    if transform == "log2":
        return float(2.0 ** min(y, 1000.0))
    if transform == "logit":
        return 100 / (1 + math.exp(-min(max(y, -700.0), 700.0)))
    return y


RATE_UNITS: dict[Transform, str] = {"log2": "days per doubling", "logit": "pp per year",
                                    "linear": "points per year"}


# -- the fit --------------------------------------------------------------------------------


def default_since(at: str) -> dt.date:
    day = dt.date.fromisoformat(at[:10])
    try:
        return day.replace(year=day.year - SINCE_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year - SINCE_YEARS, day=28)


@dataclass(frozen=True, slots=True)
class Fit:
    """The line ``forward(value) = intercept + slope_per_day * (date - origin)``."""

    transform: Transform
    slope_per_day: float
    intercept: float
    n: int
    since: dt.date
    at: str
    current: float  # the best value now: the latest frontier row's

    @property
    def origin(self) -> dt.date:
        """The date of ``at``: where the intercept is."""
        return dt.date.fromisoformat(self.at[:10])

    def line(self, day: dt.date) -> float:
        return self.intercept + self.slope_per_day * (day - self.origin).days

    @property
    def doubling_days(self) -> float | None:
        if self.transform != "log2" or self.slope_per_day <= 0:
            return None
        return 1 / self.slope_per_day

    @property
    def fitted_now(self) -> float:
        """The line's value at ``at``, in the metric's unit."""
        return inverse(self.transform, self.intercept)

    @property
    def rate(self) -> float | None:
        """For people: days per doubling (minutes); percentage points per year (percent) at
        the current level, i.e. the slope of the fitted logistic where it passes the best
        value now (clipped like the fit); points per year (points)."""
        if self.transform == "log2":
            return self.doubling_days
        if self.transform == "logit":
            p = min(max(self.current / 100, CLIP[0]), CLIP[1])
            return 100 * p * (1 - p) * self.slope_per_day * YEAR_DAYS
        return self.slope_per_day * YEAR_DAYS

    def crossing(self, threshold: float) -> dt.date | None:
        """The date at which the fitted line reaches ``threshold``; None if it never does."""
        if self.slope_per_day <= 0:
            return None
        days = (forward(self.transform, threshold) - self.intercept) / self.slope_per_day
        try:
            return self.origin + dt.timedelta(days=math.floor(round(days, 6)))
        except (OverflowError, ValueError):
            return None


def fit(points: Sequence[Point], *, unit: str, since: dt.date, at: str) -> Fit:
    """OLS of the transformed values of the frontier rows dated in [since, at) on their date.
    Raises TooFewRows below MIN_ROWS."""
    transform = transform_of(unit)
    xs, ys = _coordinates(points, transform, since, at)
    if len(xs) < MIN_ROWS:
        raise TooFewRows(len(xs), since)
    slope, intercept = statistics.linear_regression(xs, ys)
    return Fit(transform, slope, intercept, len(xs), since, at, max(p.value for p in points))


def _coordinates(points: Sequence[Point], transform: Transform, since: dt.date,
                 at: str) -> tuple[list[int], list[float]]:
    """x: days from the date of ``at``; y: the transformed value; rows dated in [since, at)."""
    origin = dt.date.fromisoformat(at[:10])
    chosen = [p for p in points if since <= p.date and p.date.isoformat() < at]
    return ([(p.date - origin).days for p in chosen],
            [forward(transform, p.value) for p in chosen])


# -- projection -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrontierKey:
    """What one frontier and its refits are of; its sha256 seeds the bootstrap."""

    source: str
    benchmark: str
    method: str | None
    filters: str  # the row filters as normalized text, the method aside
    basis: str
    since: dt.date
    at: str

    @property
    def seed(self) -> int:
        text = json.dumps([self.source, self.benchmark, self.method, self.filters, self.basis,
                           self.since.isoformat(), self.at], separators=(",", ":"))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class Refits:
    """REFITS bootstrap refits of one frontier (rows resampled with replacement; a resample
    whose rows all share one date has no line and is drawn again), shared by every claim on
    it. Deterministic: ``random.Random`` seeded from the frontier's key."""

    def __init__(self, points: Sequence[Point], line: Fit, key: FrontierKey,
                 count: int = REFITS) -> None:
        self.fit, self.count = line, count
        xs, ys = _coordinates(points, line.transform, line.since, line.at)
        xx, xy = [x * x for x in xs], [x * y for x, y in zip(xs, ys, strict=True)]
        n, rng, population = len(xs), random.Random(key.seed), range(len(xs))
        self.lines: list[tuple[float, float]] = []  # (intercept, slope)
        while len(self.lines) < count:
            pick = rng.choices(population, k=n)
            sx = sum(map(xs.__getitem__, pick))
            spread = n * sum(map(xx.__getitem__, pick)) - sx * sx  # exact: integer days
            if spread == 0:
                continue
            sy = math.fsum(map(ys.__getitem__, pick))
            slope = (n * math.fsum(map(xy.__getitem__, pick)) - sx * sy) / spread
            self.lines.append(((sy - slope * sx) / n, slope))
        self._at_end: dict[int, list[float]] = {}

    def share_crossing(self, threshold: float, end: dt.date, *, strict: bool) -> float:
        """The share of refits whose line reaches ``threshold`` before ``end`` (exclusive)."""
        x = (end - self.fit.origin).days
        levels = self._at_end.get(x)
        if levels is None:
            levels = self._at_end[x] = sorted(a + b * x for a, b in self.lines)
        y = forward(self.fit.transform, threshold)
        below = (bisect.bisect_right if strict else bisect.bisect_left)(levels, y)
        return (len(levels) - below) / len(levels)


    def band(self, days: Sequence[dt.date], *, low: float = 0.025,
             high: float = 0.975) -> list[tuple[dt.date, float, float, float]]:
        """For a chart's dashed projection line: per day, the fitted value and the ``low`` and
        ``high`` quantiles of the refits' values, in the metric's unit."""
        found = []
        for day in days:
            x = (day - self.fit.origin).days
            levels = sorted(a + b * x for a, b in self.lines)
            pick = [levels[min(int(q * len(levels)), len(levels) - 1)] for q in (low, high)]
            found.append((day, inverse(self.fit.transform, self.fit.line(day)),
                          inverse(self.fit.transform, pick[0]),
                          inverse(self.fit.transform, pick[1])))
        return found


@dataclass(frozen=True, slots=True)
class Projection:
    crossing_date: dt.date | None
    p_by_deadline: float
    rate: float | None
    rate_unit: str
    n: int
    since: dt.date
    at: str

    def to_json(self) -> JSON:
        return {"crossing_date": self.crossing_date.isoformat() if self.crossing_date else None,
                "p_by_deadline": self.p_by_deadline, "rate": self.rate,
                "rate_unit": self.rate_unit, "n": self.n, "since": self.since.isoformat(),
                "at": self.at}


def project(claim: Claim, threshold: float, refits: Refits) -> Projection:
    """Where the fitted line crosses ``threshold``, and P(yes by the window's end): the share
    of refits that cross within the window, or 1 minus it for ``<``/``<=`` claims."""
    line = refits.fit
    share = refits.share_crossing(threshold, claim.end, strict=claim.op in (">", "<="))
    return Projection(line.crossing(threshold), share if claim.crossing_is_yes else 1 - share,
                      line.rate, RATE_UNITS[line.transform], line.n, line.since, line.at)


# -- pace -----------------------------------------------------------------------------------


def pace(unit: str, threshold: float, *, base: float | None, best: float | None) -> float | None:
    """``(f(best) - f(base)) / (f(threshold) - f(base))`` with ``f`` the fit's transform;
    None without a base or a best, or when the threshold was not above the base."""
    if base is None or best is None:
        return None
    transform = transform_of(unit)
    start, goal = forward(transform, base), forward(transform, threshold)
    if goal <= start:
        return None
    return (forward(transform, best) - start) / (goal - start)


# -- per claim, shared per frontier ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """What a frontier is of: one source's benchmark (METR: method), filters and date basis."""

    source: str
    benchmark: str
    method: str | None
    unit: str
    basis: str = "result"
    filters: tuple[Filter, ...] = ()  # as Claim.row_filters: the method filter included

    @classmethod
    def of(cls, claim: Claim) -> Series:
        return cls(claim.source, claim.benchmark, claim.method, claim.unit, claim.basis,
                   claim.row_filters)

    def key(self, since: dt.date, at: str) -> FrontierKey:
        filters = " and ".join(f.text for f in self.filters if f.name != "method")
        return FrontierKey(self.source, self.benchmark, self.method, filters, self.basis,
                           since, at)


@dataclass(slots=True)
class Trend:
    """One frontier as of ``at`` with its fit (or why there is none) and, once asked, its
    refits."""

    series: Series
    at: str
    since: dt.date
    points: list[Point]
    fit: Fit | None
    problem: str | None
    _refits: Refits | None = None

    @property
    def refits(self) -> Refits | None:
        if self.fit is None:
            return None
        if self._refits is None:
            self._refits = Refits(self.points, self.fit, self.series.key(self.since, self.at))
        return self._refits


def build(series: Series, rows: Iterable[Row], *, at: str,
          since: dt.date | None = None) -> Trend:
    start = since or default_since(at)
    points = frontier(rows, filters=series.filters, basis=series.basis, since=start, at=at)
    try:
        line: Fit | None = fit(points, unit=series.unit, since=start, at=at)
        problem = None
    except TooFewRows as error:
        line, problem = None, str(error)
    return Trend(series, at, start, points, line, problem)


class Trends:
    """Projections and paces of claims as of the latest successful poll of each claim's
    source, each frontier built once and its refits shared by every claim on it.
    ``view_of`` gives a source's view (``resolver.sota.Views``)."""

    def __init__(self, view_of: Callable[[str], SourceView], *,
                 since: dt.date | None = None) -> None:
        self.view_of, self.since = view_of, since
        self._trends: dict[Series, Trend | None] = {}

    def at_of(self, source: str) -> str | None:
        """The latest successful poll of ``source`` the view has seen."""
        times = self.view_of(source).poll_times
        return times[-1] if times else None

    def trend(self, series: Series) -> Trend | None:
        """None while the source has no successful poll."""
        if series not in self._trends:
            at = self.at_of(series.source)
            rows = self.view_of(series.source).rows.get(series.benchmark, ())
            self._trends[series] = (None if at is None
                                    else build(series, rows, at=at, since=self.since))
        return self._trends[series]

    def projection(self, claim: Claim, threshold: float | None) -> Projection | None:
        """None when the threshold is not known yet (a baseline not frozen) or the frontier
        cannot be fitted."""
        if threshold is None:
            return None
        found = self.trend(Series.of(claim))
        refits = found.refits if found is not None else None
        return project(claim, threshold, refits) if refits is not None else None

    def pace(self, claim: Claim, threshold: float | None, made: str) -> float | None:
        """The pace of a ``>=``/``>`` claim made at ``made`` (an instant or a date): base is
        the best qualifying row dated before ``made``'s day, best the best in the window."""
        if threshold is None or not claim.crossing_is_yes:
            return None
        view = self.view_of(claim.source)
        base = view.best(claim, None, dt.date.fromisoformat(made[:10]))
        best = view.best_in_window(claim)
        return pace(claim.unit, threshold, base=base.value if base else None,
                    best=best.value if best else None)
