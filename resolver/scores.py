"""Each forecaster's track record (DESIGN section 12): resolved predictions that carry a
probability, scored per author and over all by Brier score, log score (probabilities clipped
to ``resolver.trend.CLIP``), calibration in tenths and mean pace. Pure functions over
``Scored`` records: ``scores(scored)`` gives the table ``resolver scores`` prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from resolver.trend import CLIP
from state.records import JSON, Outcome


@dataclass(frozen=True, slots=True)
class Scored:
    """A resolved prediction with a probability: what its author said, what happened."""

    author: str | None
    probability: float
    outcome: Outcome
    pace: float | None = None


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float  # the bin is [low, low + 0.1), the last one [0.9, 1]
    n: int
    mean_p: float
    yes_share: float

    def to_json(self) -> JSON:
        return {"bin": f"{self.low:.1f}-{self.low + 0.1:.1f}", "n": self.n,
                "mean_p": self.mean_p, "yes_share": self.yes_share}


@dataclass(frozen=True, slots=True)
class Record:
    author: str | None
    n: int
    brier: float
    log_score: float
    mean_pace: float | None
    calibration: tuple[CalibrationBin, ...] = field(default=())

    def to_json(self) -> JSON:
        return {"author": self.author, "n": self.n, "brier": self.brier,
                "log_score": self.log_score, "mean_pace": self.mean_pace,
                "calibration": [b.to_json() for b in self.calibration]}


@dataclass(frozen=True, slots=True)
class Scores:
    authors: tuple[Record, ...]
    all: Record | None  # None when nothing is scored yet

    def to_json(self) -> JSON:
        overall = None
        if self.all is not None:
            overall = {k: v for k, v in self.all.to_json().items() if k != "author"}
        return {"authors": [r.to_json() for r in self.authors], "all": overall}


def record(author: str | None, scored: Sequence[Scored]) -> Record:
    n = len(scored)
    yes = [s.outcome == "yes" for s in scored]
    brier = math.fsum((s.probability - o) ** 2 for s, o in zip(scored, yes, strict=True)) / n
    log = math.fsum(math.log(_clip(s.probability) if o else 1 - _clip(s.probability))
                    for s, o in zip(scored, yes, strict=True)) / n
    paces = [s.pace for s in scored if s.pace is not None]
    bins: dict[int, list[tuple[float, bool]]] = {}
    for s, o in zip(scored, yes, strict=True):
        bins.setdefault(min(int(s.probability * 10 + 1e-9), 9), []).append((s.probability, o))
    calibration = tuple(
        CalibrationBin(i / 10, len(items), math.fsum(p for p, _ in items) / len(items),
                       sum(o for _, o in items) / len(items))
        for i, items in sorted(bins.items()))
    return Record(author, n, brier, log, math.fsum(paces) / len(paces) if paces else None,
                  calibration)


def scores(scored: Iterable[Scored]) -> Scores:
    """Per author (in order of name; no author last) and over all."""
    every = list(scored)
    by_author: dict[str | None, list[Scored]] = {}
    for s in every:
        by_author.setdefault(s.author, []).append(s)
    order = sorted(by_author, key=lambda a: (a is None, (a or "").casefold(), a or ""))
    return Scores(tuple(record(a, by_author[a]) for a in order),
                  record(None, every) if every else None)


def _clip(p: float) -> float:
    return min(max(p, CLIP[0]), CLIP[1])
