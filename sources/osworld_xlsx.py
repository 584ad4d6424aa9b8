"""OSWorld leaderboards (kind ``osworld-xlsx``), read with python-calamine.

- ``osworld_verified_results.xlsx`` (sheet ``Eval Results``): one row per run, grouped per
  (Model, Max steps) into one observation holding the mean of the runs, as the site shows it.
  The first layout (2025-07-31) holds up to three runs in one row (``Score``, ``Score 2``,
  ``Score 3``; or ``Run 1``..``Run 3``).
- ``self_reported_results.xlsx`` / ``benchmark_data.xlsx``: four sheets, one per observation
  type, keyed by (sheet, Model, n-th occurrence), with free-text dates.

A sheet whose first cell is not ``Model`` has lost its header row (2025-11-21): the payload
is refused rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Mapping
from typing import Any

from sources.base import AttrValue, Observation, PayloadError, Rejection, Snapshot, as_float
from sources.base import range_problem as _range_problem

KIND = "osworld-xlsx"
VERIFIED = "osworld-verified"
SELF_REPORTED = "osworld-self-reported"
BENCHMARKS: dict[str, dict[str, type]] = {
    VERIFIED: {"steps": int, "approach": str, "single-rollout": bool, "org": str, "runs": int},
    SELF_REPORTED: {"sheet": str, "org": str},
}
SHEETS = {"Screenshot": "screenshot", "A11y_tree": "a11y_tree",
          "Screenshot_A11y_tree": "screenshot_a11y_tree", "Set-of-Mark": "set_of_mark"}
_RUN_COLUMNS = (("Score", "Score 2", "Score 3"), ("Run 1", "Run 2", "Run 3"))
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%Y-%m-%d", "%d/%m/%Y",
                 "%B %Y", "%b %Y")


def parse(body: bytes, headers: Mapping[str, str] | None = None) -> Snapshot:
    from python_calamine import CalamineError, CalamineWorkbook  # the spreadsheet reader

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
    except (CalamineError, ValueError, TypeError) as error:
        raise PayloadError(f"not an xlsx workbook: {error}") from None
    names = workbook.sheet_names
    snapshot = Snapshot()
    if "Eval Results" in names:
        _verified(snapshot, _rows(workbook, "Eval Results"))
    elif any(name in SHEETS for name in names):
        for name in names:
            if name in SHEETS:
                _self_reported(snapshot, SHEETS[name], _rows(workbook, name))
    else:
        raise PayloadError(f"no OSWorld sheet: found {', '.join(names) or 'none'}")
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError("no result rows found")
    return snapshot


def _rows(workbook: Any, name: str) -> list[list[Any]]:
    rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    if not rows or not rows[0] or _text(rows[0][0]) != "Model":
        first = _text(rows[0][0]) if rows and rows[0] else ""
        raise PayloadError(f"sheet {name!r} has no header row: its first cell is {first!r}, "
                           "not 'Model'")
    return rows


def _columns(header: list[Any], *required: str) -> dict[str, int]:
    """Column positions by name; the first of a repeated name wins."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        positions.setdefault(_text(cell), index)
    missing = [name for name in required if name not in positions]
    if missing:
        raise PayloadError(f"missing column {missing[0]!r}")
    return positions


def _verified(snapshot: Snapshot, rows: list[list[Any]]) -> None:
    columns = _columns(rows[0], "Model", "Max steps")
    run_columns = next((names for names in _RUN_COLUMNS if names[0] in columns), None)
    if run_columns is None and "Success rate" not in columns:
        raise PayloadError("missing column 'Success rate' (or 'Score')")
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows[1:]:
        cell = _cell_reader(row, columns)
        model = _text(cell("Model"))
        if not model:
            continue  # the sheet carries ~1,000 formatted but empty rows
        steps = as_float(cell("Max steps"))
        if steps is None:
            snapshot.notes.append(f"{model}: no 'Max steps', skipped")
            continue
        names = run_columns if run_columns else ("Success rate",)
        scores = [cell(name) for name in names if _text(cell(name))]
        groups.setdefault((model, int(steps)), []).append({"cell": cell, "scores": scores})
    for (model, steps), runs in groups.items():
        _group(snapshot, model, steps, runs)


def _group(snapshot: Snapshot, model: str, steps: int, runs: list[dict[str, Any]]) -> None:
    key = f"{model} | {steps} steps"
    values = []
    for run in runs:
        for raw in run["scores"]:
            value = as_float(raw)
            if value is None:
                continue  # a placeholder such as 🚧 or '-': a run still in progress
            problem = _range_problem(value, "%")
            if problem:
                snapshot.rejections.append(Rejection(VERIFIED, key, model, problem))
                return
            values.append(value)
    if not values:
        snapshot.notes.append(f"{key}: no score yet")
        return
    dated = [(d, run) for run in runs if (d := _date(run["cell"]("Date"))) is not None]
    latest = max(dated, key=lambda item: item[0])[1] if dated else runs[-1]
    cell = latest["cell"]
    attributes: dict[str, AttrValue] = {"steps": steps, "runs": len(values)}
    if approach := _text(cell("Approach type")):
        attributes["approach"] = approach
    if org := _text(cell("Institution")):
        attributes["org"] = org
    rollout = _text(cell("Multiple rollout")).lower()
    if rollout in ("yes", "no"):
        attributes["single-rollout"] = rollout == "no"
    snapshot.observations.append(Observation(
        benchmark=VERIFIED, key=key, subject=model, value=round(sum(values) / len(values), 6),
        result_date=max(d for d, _ in dated) if dated else None, attributes=attributes,
    ))


def _self_reported(snapshot: Snapshot, sheet: str, rows: list[list[Any]]) -> None:
    columns = _columns(rows[0], "Model", "Score")
    seen: dict[str, int] = {}
    for row in rows[1:]:
        cell = _cell_reader(row, columns)
        model = _text(cell("Model"))
        if not model:
            continue
        seen[model] = seen.get(model, 0) + 1
        key = f"{sheet}/{model}" + (f" #{seen[model]}" if seen[model] > 1 else "")
        value = snapshot.value(SELF_REPORTED, key, model, cell("Score"), unit="%", column="Score")
        if value is None:
            continue
        date = _date(cell("Date"))
        if date is None and _text(cell("Date")):
            snapshot.notes.append(f"{key}: unreadable date {_text(cell('Date'))!r}")
        attributes: dict[str, AttrValue] = {"sheet": sheet}
        if org := _text(cell("Institution")):
            attributes["org"] = org
        snapshot.observations.append(Observation(
            benchmark=SELF_REPORTED, key=key, subject=model, value=value, result_date=date,
            attributes=attributes,
        ))


def _cell_reader(row: list[Any], columns: dict[str, int]) -> Any:
    def cell(name: str) -> Any:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    return cell


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any) -> str | None:
    """Excel serial days, date objects, or free text such as 'Jan 24, 2025'."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:
            return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
        return None
    return _date_text(_text(value))


@functools.lru_cache(maxsize=4096)
def _date_text(raw: str) -> str | None:
    text = re.sub(r"\s+", " ", raw).replace("Sept", "Sep")
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date().isoformat()  # noqa: DTZ007 (a date)
        except ValueError:
            continue
    return None
