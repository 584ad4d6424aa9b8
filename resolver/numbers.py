"""Numbers for people (DESIGN section 5): rounded, with their unit, everywhere text is written.
``--json`` keeps full precision; these are for the CLI, the digest and the site.

    percent   75.2%          (1 decimal)
    minutes   95.3 min       (under 120), 7 h 59 min (from 120, to the minute)
    points    1,423.5        (1 decimal, no unit sign)
    distance  9.8 pp below 85%   (percent metrics: percentage points)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def value(number: float | None, unit: str) -> str:
    if number is None:
        return "-"
    if unit == "%":
        return f"{number:.1f}%"
    if unit == "min":
        if abs(number) < 120:
            return f"{number:.1f} min"
        total = round(number)
        hours, minutes = divmod(total, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{number:,.1f}"


def threshold(number: float | None, unit: str) -> str:
    """A threshold as a person wrote it: ``85%`` rather than ``85.0%``."""
    text = value(number, unit)
    return text.replace(".0%", "%") if unit == "%" else (
        text[:-2] if unit != "min" and text.endswith(".0") else text)


def gap(number: float, unit: str) -> str:
    """A distance between two values of a metric: percentage points for percent."""
    if unit == "%":
        return f"{abs(number):.1f} pp"
    return value(abs(number), unit)


def distance(best: float | None, limit: float | None, unit: str) -> str:
    """Where the best value stands against a claim's threshold: "9.8 pp below 85%"."""
    if limit is None:
        return "baseline not frozen yet"
    if best is None:
        return f"no qualifying row yet; threshold {threshold(limit, unit)}"
    if best == limit:
        return f"at the threshold {threshold(limit, unit)}"
    where = "below" if best < limit else "above"
    return f"{gap(limit - best, unit)} {where} {threshold(limit, unit)}"


def probability(p: float | None) -> str:
    if p is None:
        return "-"
    if 0 < p < 0.01:
        return "<1%"
    if 0.99 < p < 1:
        return ">99%"
    return f"{p:.0%}"


def table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    """Plain aligned columns (DESIGN section 5: no rich); the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    return ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)),
                       row[-1]]).rstrip() for row in [header, *rows]]


def left(days: int | None) -> str:
    """Days to a deadline, in words."""
    if days is None:
        return "-"
    return (f"{days} days left" if days > 1 else "1 day left" if days == 1 else
            "ends today" if days == 0 else f"ended {-days} days ago")


def rate(trend: Mapping[str, Any]) -> str:
    """A fitted trend's rate, in its transform's words."""
    fitted, transform = trend["rate"], trend["transform"]
    if fitted is None:
        return trend["problem"] or "no fitted rate"
    return {"log2": f"doubling every {fitted:.1f} days",
            "logit": f"{fitted:+.1f} pp per year at the current level"}.get(
        transform, f"{fitted:+,.1f} points per year")
