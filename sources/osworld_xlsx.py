"""OSWorld leaderboards (kind ``osworld-xlsx``), read with python-calamine.

- ``osworld_verified_results.xlsx`` (sheet ``Eval Results``): one row per run, grouped per
  (Model, Max steps) into one observation holding the mean of the runs, as the site shows it.
  The first layout (2025-07-31) holds up to three runs in one row (``Score``, ``Score 2``,
  ``Score 3``; or ``Run 1``..``Run 3``).
- ``self_reported_results.xlsx`` / ``benchmark_data.xlsx``: four sheets, one per observation
  type, keyed by (sheet, Model, n-th occurrence), with free-text dates.

A sheet whose first cell is not ``Model`` has lost its header row (2025-11-21): the payload
is refused rather than guessed at.

An xlsx is a zip, and python-calamine would inflate it unchecked (and allocates every sheet
as a dense grid: one cell at XFD1048576 in a 24 kB file aborts the process). So every member
is first inflated through ``ZipReader`` (declared sizes, then the bytes actually produced,
against max_bytes), its cell references bound the grid, and calamine reads a stored (not
compressed) copy of exactly those bytes: it has nothing left to inflate.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from typing import Any

from sources.base import (
    MAX_BYTES,
    AttrValue,
    Observation,
    PayloadError,
    Rejection,
    Snapshot,
    as_float,
    as_number,
    check_size,
    result_date,
    shown,
)
from sources.base import range_problem as _range_problem
from sources.kinds import Benchmark, FixedKind
from sources.zips import ZipReader

KIND = "osworld-xlsx"
VERIFIED = "osworld-verified"
SELF_REPORTED = "osworld-self-reported"
BENCHMARKS = (
    Benchmark(VERIFIED, "%", {"steps": int, "approach": str, "single-rollout": bool,
                              "org": str, "runs": int}),
    Benchmark(SELF_REPORTED, "%", {"sheet": str, "org": str}),
)
SHEETS = {"Screenshot": "screenshot", "A11y_tree": "a11y_tree",
          "Screenshot_A11y_tree": "screenshot_a11y_tree", "Set-of-Mark": "set_of_mark"}
_RUN_COLUMNS = (("Score", "Score 2", "Score 3"), ("Run 1", "Run 2", "Run 3"))
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%Y-%m-%d", "%d/%m/%Y",
                 "%B %Y", "%b %Y")


# The cell grid is bounded by the references of <c> and <row> tags (`<c r="AC1077"`), read
# after quotes are made double and whitespace dropped (`<c r = 'A1'` -> `<cr="A1"`). Only the
# wide (two letters or more) and far (four digits or more) references matter, which keeps
# the scan to one pass with few matches.
_REFERENCE = re.compile(rb'r="(?:([A-Za-z]{2,})[0-9]|[A-Za-z]*([0-9]{4,})")')
_NORMAL = bytes.maketrans(b"'", b'"')
# Bytes calamine and python-calamine hold per cell of the dense grid (32 + a list slot).
_CELL_BYTES = 48


def parse(body: bytes, headers: Mapping[str, str] | None = None, *,
          max_bytes: int = MAX_BYTES) -> Snapshot:
    from python_calamine import CalamineError, CalamineWorkbook  # the spreadsheet reader

    stored = _checked_copy(body, max_bytes)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(stored))
        names = workbook.sheet_names
        snapshot = Snapshot()
        _sheets(snapshot, workbook, names)
    except (CalamineError, ValueError, TypeError, OverflowError) as error:
        raise PayloadError(f"not an xlsx workbook: {_first_line(error)}") from None
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError("no result rows found")
    return snapshot


SOURCE_KIND = FixedKind(KIND, BENCHMARKS, parse)


def _checked_copy(body: bytes, max_bytes: int) -> bytes:
    """The workbook's members inflated under max_bytes, their cell grid bounded, as a zip of
    stored members."""
    check_size(body, max_bytes)
    if body[:2] != b"PK":
        raise PayloadError("not an xlsx workbook: not a zip archive")
    copy = io.BytesIO()
    with ZipReader(body, max_bytes=max_bytes, what="an xlsx workbook") as archive, \
            zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
        members = [info for info in archive.members if not info.is_dir()]
        contents = {info.filename: archive.read(info) for info in members}
        sheets = _sheet_names(contents)
        for info in members:
            data = contents[info.filename]
            if info.filename.rsplit("/", 1)[-1] in sheets or "worksheets/" in info.filename:
                _bound_grid(info.filename, data, max_bytes)
            out.writestr(info.filename, data)
    return copy.getvalue()


_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_TARGET = re.compile(rb"""Target\s*=\s*["']([^"']*)["']""")


def _sheet_names(contents: dict[str, bytes]) -> set[str]:
    """The file names every relationship of a sheet type points at (calamine finds sheets
    through xl/_rels/workbook.xml.rels, wherever they lie)."""
    names: set[str] = set()
    for name, data in contents.items():
        if not name.endswith(".rels"):
            continue
        for tag in _RELATIONSHIP.findall(data):
            target = _TARGET.search(tag)
            if target and b"sheet" in tag.lower():  # Type=".../worksheet", chartsheet...
                names.add(target.group(1).decode("utf-8", "replace").rsplit("/", 1)[-1])
    return names


def _bound_grid(name: str, xml: bytes, max_bytes: int) -> None:
    """Refuse a sheet whose dense grid (as calamine allocates it) would not fit max_bytes.
    A cell or row without a reference takes the next position, so each of them (and, to
    stay on the safe side, every other tag starting with `c` or `row`) adds one."""
    normal = xml.translate(_NORMAL, b" \t\r\n")
    found = set(_REFERENCE.findall(normal))
    letters = {letter for letter, _ in found if letter}
    digits = {digit for _, digit in found if digit}
    if any(len(letter) > 3 for letter in letters) or any(len(digit) > 7 for digit in digits):
        raise PayloadError(f"{shown(name)}: a cell reference is out of any sheet's range")
    unreferenced = normal.count(b"<c") + normal.count(b":c") - normal.count(b'cr="')
    columns = max((_column(letter) for letter in letters), default=26) + max(unreferenced, 0)
    rows = (max((int(digit) for digit in digits), default=999)
            + max(normal.count(b"row") - normal.count(b'rowr="'), 0))
    if rows * columns * _CELL_BYTES > max_bytes:
        raise PayloadError(f"{shown(name)}: a grid of up to {rows} rows and {columns} columns "
                           f"is over the {max_bytes}-byte limit")


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _sheets(snapshot: Snapshot, workbook: Any, names: list[str]) -> None:
    if "Eval Results" in names:
        _verified(snapshot, _rows(workbook, "Eval Results"))
    elif any(name in SHEETS for name in names):
        for name in names:
            if name in SHEETS:
                _self_reported(snapshot, SHEETS[name], _rows(workbook, name))
    else:
        raise PayloadError(f"no OSWorld sheet: found {shown(', '.join(names) or 'none', 200)}")


def _rows(workbook: Any, name: str) -> list[list[Any]]:
    rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    if not rows or not rows[0] or _text(rows[0][0]) != "Model":
        first = _text(rows[0][0]) if rows and rows[0] else ""
        raise PayloadError(f"sheet {shown(name)} has no header row: its first cell is "
                           f"{shown(first)}, not 'Model'")
    return rows


def _columns(header: list[Any], *required: str) -> dict[str, int]:
    """Column positions by name; the first of a repeated name wins."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        positions.setdefault(_text(cell), index)
    missing = [name for name in required if name not in positions]
    if missing:
        raise PayloadError(f"missing column {shown(missing[0])}")
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
        steps = as_float(cell("Max steps"))  # finite
        if steps is None:
            snapshot.skip(VERIFIED, f"{model}: no 'Max steps', skipped")
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
            value = as_number(raw)
            if value is None:
                continue  # a placeholder such as 🚧 or '-': a run still in progress
            problem = _range_problem(value, "%")  # NaN and infinities included
            if problem:
                snapshot.rejections.append(Rejection(VERIFIED, key, model, problem))
                return
            values.append(value)
    if not values:
        snapshot.blank[VERIFIED] = snapshot.blank.get(VERIFIED, 0) + 1  # no score yet
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
        date = _date(cell("Date"))  # free text that does not parse: the row is undated
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
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:
            return result_date(_EXCEL_EPOCH + dt.timedelta(days=int(value)))
        return None
    if isinstance(value, dt.date):
        return result_date(value)
    raw = _text(value)
    if len(raw) > 64:
        return None
    return result_date(re.sub(r"\s+", " ", raw).replace("Sept", "Sep"), formats=_DATE_FORMATS)


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0][:200] if message else type(error).__name__
