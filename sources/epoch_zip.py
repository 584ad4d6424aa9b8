"""Epoch AI's Benchmarking Hub (kind ``epoch-zip``): ``benchmark_data.zip``, one CSV per
benchmark. Members this kind does not map (``osworld_2_external.csv``, the metadata files)
are ignored.

| member                              | benchmark            | key               | value          |
| swe_bench_verified.csv              | swe-bench-verified   | id                | mean_score x100 |
| swe_bench_bash.csv                  | swe-bench-bash-only  | id                | % Resolved x100 |
| os_world_external.csv               | osworld              | Agent + Source    | Score (percent) |
| metr_time_horizons_external.csv     | metr-p50/p80-horizon | id                | minutes         |

Members are inflated through ``ZipReader`` (max_bytes: declared and actual sizes) and read as
a stream of rows, never as a whole table.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sources.base import (
    MAX_BYTES,
    AttrValue,
    Observation,
    PayloadError,
    Snapshot,
    ZipReader,
    as_float,
    result_date,
)

KIND = "epoch-zip"
BENCHMARKS: dict[str, dict[str, type]] = {
    "swe-bench-verified": {},
    "swe-bench-bash-only": {},
    "osworld": {},
    "metr-p50-horizon": {"method": str},
    "metr-p80-horizon": {"method": str},
}
METHODS = {"": "1.0", "METR-Horizon-v1": "1.0", "METR-Horizon-v1.0": "1.0",
           "METR-Horizon-v1.1": "1.1"}
_DATES = ("%d/%m/%Y", "%d %B %Y")  # beside ISO: the legacy OSWorld member's 24/1/2025

@dataclass(frozen=True)
class _Metric:
    benchmark: str
    column: str
    scale: float  # 100 for fractions, 1 otherwise
    unit: str


@dataclass(frozen=True)
class _Member:
    required: tuple[str, ...]
    date: str
    metrics: tuple[_Metric, ...]
    subject: tuple[str, ...]  # the first non-empty of these columns names the row
    key: str | None = None  # the column of the stable key; None: subject + " | " + source
    source: str | None = None  # a column kept as the attribute 'reported-by'
    method: str | None = None  # the column of METR's version (blank = 1.0)


MEMBERS: dict[str, _Member] = {
    "swe_bench_verified.csv": _Member(
        ("Model version", "mean_score", "Started at", "id"), "Started at",
        (_Metric("swe-bench-verified", "mean_score", 100, "%"),), ("Model version",), "id"),
    "swe_bench_bash.csv": _Member(
        ("Model version", "% Resolved", "Date run", "id"), "Date run",
        (_Metric("swe-bench-bash-only", "% Resolved", 100, "%"),), ("Model version",), "id"),
    # Agent names the run with its step budget ("claude-sonnet-4-5 (100 steps)"): a model is
    # listed once per budget, so Model version alone is not unique.
    "os_world_external.csv": _Member(
        ("Model version", "Score", "Agent", "Source", "Date added"), "Date added",
        (_Metric("osworld", "Score", 1, "%"),), ("Agent", "Model version"), None, "Source"),
    "metr_time_horizons_external.csv": _Member(
        ("Model version", "Time horizon", "Release date", "id"), "Release date",
        (_Metric("metr-p50-horizon", "Time horizon", 1, "min"),
         _Metric("metr-p80-horizon", "Time Horizon (80%)", 1, "min")),
        ("Model version",), "id", method="METR version"),
}


def parse(body: bytes, headers: Mapping[str, str] | None = None, *,
          max_bytes: int = MAX_BYTES) -> Snapshot:
    snapshot = Snapshot()
    with ZipReader(body, max_bytes=max_bytes) as archive:
        for info in archive.members:
            name = info.filename.rsplit("/", 1)[-1]
            member = MEMBERS.get(name)
            if member is not None:
                _read(snapshot, archive, info, name, member)
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError(f"no rows in any of {', '.join(MEMBERS)}")
    return snapshot


def _read(snapshot: Snapshot, archive: ZipReader, info: zipfile.ZipInfo, name: str,
          member: _Member) -> None:
    """The rows of a member, streamed. utf-8-sig drops a byte-order mark; newline="" keeps
    newlines inside quoted fields; a field over csv's limit (128 kB) is an error."""
    try:
        with archive.open(info) as raw:
            rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            _member(snapshot, name, member, rows)
    except (UnicodeDecodeError, csv.Error) as error:
        raise PayloadError(f"{info.filename}: unreadable: {error}") from None


def _member(snapshot: Snapshot, name: str, member: _Member, table: Iterator[list[str]]) -> None:
    header = next(table, None)
    if header is None:
        return
    positions: dict[str, int] = {}
    for index, column in enumerate(header):
        positions.setdefault(column.strip(), index)
    missing = [column for column in member.required if column not in positions]
    if missing:
        raise PayloadError(f"{name}: missing column {missing[0]!r}")
    at = positions.get
    subjects = [positions[c] for c in member.subject]
    key_at = at(member.key) if member.key else None
    source_at = at(member.source) if member.source else None
    method_at = at(member.method) if member.method else None
    date_at = positions[member.date]
    metrics = [(metric, at(metric.column)) for metric in member.metrics]
    ci = (at("CI_low"), at("CI_high"))
    # A short row is read through a dict of the columns used, not padded to the header's
    # width (a header of a million columns over a million short rows).
    used = {p for p in (*subjects, key_at, source_at, method_at, date_at, *ci,
                        *(p for _, p in metrics)) if p is not None}
    need = max(used) + 1
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(table, 2):
        cells: list[str] | dict[int, str] = row
        if len(row) < need:
            if not row:
                continue  # a blank line
            cells = {p: row[p] if p < len(row) else "" for p in used}
        subject = ""
        for position in subjects:
            subject = cells[position].strip()
            if subject:
                break
        source = cells[source_at].strip() if source_at is not None else ""
        key = cells[key_at].strip() if key_at is not None else f"{subject} | {source}"
        if not key.strip(" |"):
            snapshot.notes.append(f"{name} line {number}: no key, skipped")
            continue
        attributes: dict[str, AttrValue] = {}
        if source:
            attributes["reported-by"] = source
        if member.method:  # METR rows: a blank or absent version is 1.0
            method = METHODS.get(cells[method_at].strip() if method_at is not None else "")
            if method:
                attributes["method"] = method
        for metric, column_at in metrics:
            raw = cells[column_at] if column_at is not None else ""
            if not raw.strip():
                continue  # e.g. no 80% horizon before 2026-03
            if (metric.benchmark, key) in seen:
                snapshot.notes.append(f"{name} line {number}: duplicate key {key!r}, skipped")
                continue
            seen.add((metric.benchmark, key))
            value = snapshot.value(metric.benchmark, key, subject or key, raw, unit=metric.unit,
                                   column=metric.column, scale=metric.scale)
            if value is None:
                continue
            low = high = None
            if metric.benchmark == "metr-p50-horizon" and None not in ci:
                low, high = as_float(cells[ci[0]]), as_float(cells[ci[1]])  # type: ignore[index]
            snapshot.observations.append(Observation(
                benchmark=metric.benchmark, key=key, subject=subject or key,
                value=round(value, 9), result_date=result_date(cells[date_at], formats=_DATES),
                ci_low=low, ci_high=high, attributes=attributes,
            ))
