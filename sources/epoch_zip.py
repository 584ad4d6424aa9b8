"""Epoch AI's Benchmarking Hub (kind ``epoch-zip``): ``benchmark_data.zip``, one CSV per
benchmark. Members this kind does not map (``osworld_2_external.csv``, the metadata files)
are ignored.

| member                              | benchmark            | key               | value          |
| swe_bench_verified.csv              | swe-bench-verified   | id                | mean_score x100 |
| swe_bench_bash.csv                  | swe-bench-bash-only  | id                | % Resolved x100 |
| os_world_external.csv               | osworld              | Agent+Source      | Score (percent) |
| metr_time_horizons_external.csv     | metr-p50/p80-horizon | id                | minutes         |
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sources.base import AttrValue, Observation, PayloadError, Snapshot, as_float

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

class Row:
    """One CSV row read by column name (a list and the header's positions: no dict per row)."""

    __slots__ = ("cells", "positions")

    def __init__(self, cells: list[str], positions: dict[str, int]) -> None:
        self.cells = cells
        self.positions = positions

    def __getitem__(self, name: str) -> str:
        return self.get(name) or ""

    def __contains__(self, name: str) -> bool:
        return name in self.positions

    def get(self, name: str, default: str | None = None) -> str | None:
        index = self.positions.get(name)
        return self.cells[index] if index is not None and index < len(self.cells) else default


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
    key: Callable[[Row], str]
    subject: Callable[[Row], str]
    attributes: Callable[[Row], dict[str, AttrValue]]


def _none(row: Row) -> dict[str, AttrValue]:
    return {}


def _method(row: Row) -> dict[str, AttrValue]:
    version = row["METR version"].strip()
    method = METHODS.get(version)
    return {"method": method} if method else {}


def _osworld_subject(row: Row) -> str:
    # Agent names the run with its step budget ("claude-sonnet-4-5 (100 steps)"): a model is
    # listed once per budget, so Model version alone is not unique.
    return row["Agent"].strip() or row["Model version"].strip()


def _osworld_key(row: Row) -> str:
    return f"{_osworld_subject(row)} | {row['Source'].strip()}"


def _osworld_attributes(row: Row) -> dict[str, AttrValue]:
    reported = row["Source"].strip()
    return {"reported-by": reported} if reported else {}


MEMBERS: dict[str, _Member] = {
    "swe_bench_verified.csv": _Member(
        ("Model version", "mean_score", "Started at", "id"), "Started at",
        (_Metric("swe-bench-verified", "mean_score", 100, "%"),),
        lambda r: r["id"].strip(), lambda r: r["Model version"].strip(), _none),
    "swe_bench_bash.csv": _Member(
        ("Model version", "% Resolved", "Date run", "id"), "Date run",
        (_Metric("swe-bench-bash-only", "% Resolved", 100, "%"),),
        lambda r: r["id"].strip(), lambda r: r["Model version"].strip(), _none),
    "os_world_external.csv": _Member(
        ("Model version", "Score", "Agent", "Source", "Date added"), "Date added",
        (_Metric("osworld", "Score", 1, "%"),),
        _osworld_key, _osworld_subject, _osworld_attributes),
    "metr_time_horizons_external.csv": _Member(
        ("Model version", "Time horizon", "Release date", "id"), "Release date",
        (_Metric("metr-p50-horizon", "Time horizon", 1, "min"),
         _Metric("metr-p80-horizon", "Time Horizon (80%)", 1, "min")),
        lambda r: r["id"].strip(), lambda r: r["Model version"].strip(), _method),
}


def parse(body: bytes, headers: Mapping[str, str] | None = None) -> Snapshot:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as error:
        raise PayloadError(f"not a zip archive: {error}") from None
    snapshot = Snapshot()
    with archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            member = MEMBERS.get(name)
            if member is not None:
                _member(snapshot, name, member, _read(archive, info))
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError(f"no rows in any of {', '.join(MEMBERS)}")
    return snapshot


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[Row]:
    try:
        with archive.open(info) as raw:
            # utf-8-sig drops a byte-order mark; newline="" keeps newlines inside quoted fields.
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            header = next(reader, [])
            positions: dict[str, int] = {}
            for index, name in enumerate(header):
                positions.setdefault(name.strip(), index)
            for cells in reader:
                yield Row(cells, positions)
    except (zipfile.BadZipFile, UnicodeDecodeError, csv.Error, EOFError) as error:
        raise PayloadError(f"{info.filename}: unreadable: {error}") from None


def _member(snapshot: Snapshot, name: str, member: _Member, rows: Iterator[Row]) -> None:
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows, 2):
        if number == 2:
            missing = [c for c in member.required if c not in row]
            if missing:
                raise PayloadError(f"{name}: missing column {missing[0]!r}")
        key = member.key(row)
        if not key.strip(" |"):
            snapshot.notes.append(f"{name} line {number}: no key, skipped")
            continue
        subject = member.subject(row) or key
        for metric in member.metrics:
            raw = row.get(metric.column)
            if raw is None or not raw.strip():
                continue  # e.g. no 80% horizon before 2026-03
            if (metric.benchmark, key) in seen:
                snapshot.notes.append(f"{name} line {number}: duplicate key {key!r}, skipped")
                continue
            seen.add((metric.benchmark, key))
            value = snapshot.value(metric.benchmark, key, subject, raw, unit=metric.unit,
                                   column=metric.column, scale=metric.scale)
            if value is None:
                continue
            ci_low = ci_high = None
            if metric.benchmark == "metr-p50-horizon":
                ci_low, ci_high = as_float(row.get("CI_low")), as_float(row.get("CI_high"))
            snapshot.observations.append(Observation(
                benchmark=metric.benchmark, key=key, subject=subject,
                value=round(value, 9), result_date=_date(row.get(member.date)),
                ci_low=ci_low, ci_high=ci_high, attributes=member.attributes(row),
            ))


def _date(raw: str | None) -> str | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    for form in ("%d/%m/%Y", "%d %B %Y"):
        try:
            return dt.datetime.strptime(text, form).date().isoformat()  # noqa: DTZ007 (a date)
        except ValueError:
            continue
    return None
