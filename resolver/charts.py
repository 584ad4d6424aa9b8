"""The site's charts (DESIGN section 13): the state of the art of one benchmark over time as
inline SVG from pygal, with no script (pygal's inline config script is stripped) and ids
derived from the content, so the same data gives the same bytes.

- minutes on a log axis (METR's 2019-2024 horizons are seconds to minutes; linear flattens them);
- each threshold its own thick dashed series, labelled with its value and unit and the claims
  on it; claims with equal thresholds and windows share one line whose label names them all,
  so none hides under another;
- each window's end a vertical dotted line, labelled with its date;
- the projection (the fitted line from the latest poll to the window's end) dashed, with the
  2.5%-97.5% band of its bootstrap refits as two thin lines;
- no chart without rows: ``svg`` is only called with points.

A ``Chart`` is hashable: the site renders each distinct one once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from resolver import numbers

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_SOTA, _PROJECTION, _BAND, _END = "#1f5fae", "#1b7f3b", "#8fcf9f", "#777777"
_THRESHOLDS = ("#c0392b", "#8e44ad", "#d35400", "#16a085", "#7f6000", "#2c3e50")
_DASHES = ("10, 5", "4, 4", "14, 4, 3, 4", "2, 3", "18, 6", "7, 3, 2, 3")


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    start: dt.date | None
    end: dt.date  # the window's last day
    claims: tuple[str, ...]  # "ID (OP)" of each claim drawn on this line


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    unit: str
    points: tuple[tuple[dt.date, float, str], ...]  # the state of the art: (date, value, subject)
    thresholds: tuple[Threshold, ...] = ()
    band: tuple[tuple[dt.date, float, float, float], ...] = ()  # (day, fitted, low, high)


def merged(thresholds: Sequence[Threshold], limit: int = 6) -> tuple[Threshold, ...]:
    """Claims with the same threshold and window (whatever their op) as one line naming them
    all: a line drawn twice would hide one claim under the other."""
    groups: dict[tuple[float, dt.date | None, dt.date], list[str]] = {}
    for t in thresholds:
        groups.setdefault((t.value, t.start, t.end), []).extend(t.claims)
    found = [Threshold(value, start, end, tuple(claims))
             for (value, start, end), claims in groups.items()]
    return tuple(sorted(found, key=lambda t: (t.end, t.value, t.claims))[:limit])


def svg(chart: Chart) -> str:
    import pygal
    from pygal.style import Style

    log = chart.unit == "min"
    values = [v for _, v, _ in chart.points] + [t.value for t in chart.thresholds]
    values += [x for _, mid, low, high in chart.band for x in (mid, low, high)]
    if log:
        values = [v for v in values if v > 0]
    low_y, high_y = min(values), max(values)
    colors: list[str] = []
    plot_series: list[tuple[str, list[tuple[dt.datetime, float]], dict[str, object]]] = []

    def add(label: str, color: str, points: list[tuple[dt.datetime, float]],
            **options: object) -> None:
        colors.append(color)
        plot_series.append((label, points, options))

    def at(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)

    steps: list[tuple[dt.datetime, float]] = []
    for i, (day, value, _) in enumerate(chart.points):
        if log and value <= 0:
            continue
        if steps and i:
            steps.append((at(day), steps[-1][1]))
        steps.append((at(day), value))
    add("state of the art", _SOTA, steps, stroke_style={"width": 2})
    first = chart.points[0][0]
    for i, t in enumerate(chart.thresholds):
        color, dash = _THRESHOLDS[i % len(_THRESHOLDS)], _DASHES[i % len(_DASHES)]
        start = max(t.start or first, first) if t.start is None or t.start < t.end else t.end
        label = (f"{' and '.join(t.claims)}: {numbers.threshold(t.value, chart.unit)} "
                 f"by {t.end.isoformat()}")
        add(label, color, [(at(start), t.value), (at(t.end), t.value)],
            stroke_style={"width": 3, "dasharray": dash}, dots_size=4)
    for end in sorted({t.end for t in chart.thresholds}):
        add(f"window ends {end.isoformat()}", _END, [(at(end), low_y), (at(end), high_y)],
            stroke_style={"width": 1.5, "dasharray": "2, 3"}, show_dots=False)
    if chart.band:
        add("projection (fitted line)", _PROJECTION,
            [(at(day), mid) for day, mid, _, _ in chart.band],
            stroke_style={"width": 2.5, "dasharray": "8, 4"}, show_dots=False)
        for name in ("low", "high"):
            add(f"projection band, {name} (95% of bootstrap refits inside)", _BAND,
                [(at(day), lo if name == "low" else hi) for day, _, lo, hi in chart.band],
                stroke_style={"width": 1.5}, show_dots=False)
    style = Style(font_family=FONT, colors=tuple(colors), background="white",
                  plot_background="white", foreground="#222", foreground_strong="#111",
                  foreground_subtle="#ddd", title_font_size=17, label_font_size=13,
                  major_label_font_size=13, legend_font_size=14, tooltip_font_size=14,
                  value_font_size=13, guide_stroke_color="#e4e4e4",
                  major_guide_stroke_color="#d0d0d0", guide_stroke_dasharray="1,0",
                  major_guide_stroke_dasharray="1,0")
    ticks = [t for t in _MINUTES if low_y * 0.8 <= t <= high_y * 1.25] if log else None
    plot = pygal.DateTimeLine(
        js=[], disable_xml_declaration=True, width=760, height=560, style=style,
        title=chart.title, show_legend=True, legend_at_bottom=True,
        legend_at_bottom_columns=1, x_label_rotation=30, truncate_legend=-1, dots_size=2,
        logarithmic=log, human_readable=False, show_x_guides=False,
        x_value_formatter=lambda when: when.strftime("%Y-%m-%d"),
        value_formatter=lambda value: numbers.value(value, chart.unit),
        range=(low_y * 0.8, high_y * 1.25) if log else None, y_labels=ticks,
        y_labels_major=ticks,
    )
    for label, points, options in plot_series:
        plot.add(label, points, **options)
    text = _SCRIPT.sub("", str(plot.render(is_unicode=True)))
    digest = hashlib.sha256(repr(chart).encode()).hexdigest()[:12]
    return _UUID.sub(digest, text)


_MINUTES = (1 / 60, 0.125, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 240, 480, 960, 1920, 3840,
            7680, 15360, 30720, 61440)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
