"""Epoch AI's Benchmarking Hub (kind ``epoch-zip``): ``benchmark_data.zip``, one CSV per
benchmark, read by one rule and a table of units (DESIGN section 2):

- **members**: the ``*.csv`` at the zip's root if there are any, else those directly under
  its single top folder; never deeper (``additional_eci_data/``), and never
  ``benchmark_metadata.csv`` or ``model_metadata.csv``. Member names are never file paths.
- **benchmark id**: the name without ``.csv`` and ``_external``, ``_`` as ``-``; exceptions
  in ``MEMBERS`` (``sources.epoch_members``: ``os_world_external`` -> ``osworld``,
  ``epoch_capabilities_index`` -> ``eci``...).
- **value**: ``mean_score`` in Epoch's own runs, else the column just before
  ``Release date``. ``MEMBERS`` gives each known member that column (so a member that loses
  it fails, rather than reading its neighbour), its unit and scale (fractions x100 into
  percent). A member the table does not know is listed in ``Snapshot.unknown`` and not read,
  unless the source's options map it (``members = {"x_external.csv" = {unit = "%",
  scale = 100}}``): the rule finds its column.
- **key**: a lowercase ``id``; else ``Model version`` + each of ``Agent``, ``Scaffold``,
  ``Name`` present (blank cells left out), joined by `` | ``, + `` #n``, the n-th row with
  that text in file order; OSWorld's member keeps ``Agent`` (else ``Model version``) + `` | ``
  + ``Source``.
- **result_date**: ``Started at`` for Epoch's own runs (blank = no date); else the row's first
  non-blank cell of ``RESULT_DATES`` (when it does not parse, the row has no date), else
  ``Release date``.
- **attributes**: ``org`` (``Organization``) for all, plus the member's own (``MEMBERS``).

Health is per member: a member without its value, date or key column, or that does not
decode, fails alone (``Snapshot.failed`` names its benchmarks); the others are read. Only a
zip over max_bytes, or one that no member yields a row from, is refused whole.

Members are inflated through ``ZipReader`` (max_bytes: declared and actual sizes) and read as
a stream of rows, never as a whole table.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sources.base import (
    MAX_BYTES,
    UNIT_RANGES,
    AttrValue,
    Observation,
    OptionsError,
    OverLimit,
    PayloadError,
    Snapshot,
    as_float,
    result_date,
    shown,
)
from sources.epoch_members import MEMBERS, Member, benchmark_id
from sources.kinds import Benchmark, check_benchmark_id, scale_of, unit_of
from sources.zips import ZipReader

KIND = "epoch-zip"
METHODS = {"": "1.0", "METR-Horizon-v1": "1.0", "METR-Horizon-v1.0": "1.0",
           "METR-Horizon-v1.1": "1.1"}
RESULT_DATES = ("Date run", "Run date", "Evaluation date", "Date of evaluation", "Date added",
                "Date")
NOT_BENCHMARKS = frozenset({"benchmark_metadata.csv", "model_metadata.csv"})
KEY_PARTS = ("Model version", "Agent", "Scaffold", "Name")
_DATES = ("%d/%m/%Y", "%d %B %Y")  # beside ISO: the legacy OSWorld member's 24/1/2025


@dataclass(frozen=True)
class EpochZip:
    """The kind: every member of the table, plus those the options map."""

    name: str = KIND

    def benchmarks(self, options: Mapping[str, Any]) -> dict[str, Benchmark]:
        yielded: dict[str, Benchmark] = {}
        for name, member in {**MEMBERS, **mapped_members(options)}.items():
            for benchmark in member.benchmarks(name):
                yielded[benchmark.id] = benchmark
        return dict(sorted(yielded.items()))

    def check(self, options: Mapping[str, Any]) -> None:
        mapped_members(options)

    def parse(self, body: bytes, headers: Mapping[str, str] | None = None, *,
              max_bytes: int = MAX_BYTES,
              options: Mapping[str, Any] | None = None) -> Snapshot:
        return parse(body, headers, max_bytes=max_bytes, options=options)


def mapped_members(options: Mapping[str, Any]) -> dict[str, Member]:
    """The members ``options`` maps (``members = {"x.csv" = {unit, scale}}``), checked."""
    for option in options:
        if option != "members":
            raise OptionsError(str(option), "unknown option of epoch-zip; known: members")
    raw = options.get("members", {})
    if not isinstance(raw, Mapping):
        raise OptionsError("members", 'must be a table: members."x_external.csv" = '
                           '{ unit = "%", scale = 100 }')
    mapped: dict[str, Member] = {}
    for name, entry in raw.items():
        where = f"members.{shown(name)}"
        if (not isinstance(name, str) or not name.endswith(".csv") or "/" in name
                or "\\" in name or len(name) > 200):
            raise OptionsError(where, 'a member is named by its file name, such as '
                               '"x_external.csv"')
        if not isinstance(entry, Mapping):
            raise OptionsError(where, "must be a table with unit and scale")
        for option in entry:
            if option not in ("unit", "scale"):
                raise OptionsError(f"{where}.{option}", "unknown; a member takes unit and scale")
        unit = unit_of(entry.get("unit"), f"{where}.unit")
        scale = scale_of(entry.get("scale"), f"{where}.scale")
        known = MEMBERS.get(name)
        member = (replace(known, unit=unit, scale=scale) if known
                  else Member(unit, scale=scale))
        check_benchmark_id(benchmark_id(name, member), where)
        mapped[name] = member
    return mapped


SOURCE_KIND = EpochZip()


def parse(body: bytes, headers: Mapping[str, str] | None = None, *,
          max_bytes: int = MAX_BYTES, options: Mapping[str, Any] | None = None) -> Snapshot:
    try:
        members = {**MEMBERS, **mapped_members(options or {})}
    except OptionsError as error:
        raise PayloadError(str(error)) from None
    snapshot = Snapshot()
    read_from: dict[str, str] = {}  # benchmark -> the member it was read from
    with ZipReader(body, max_bytes=max_bytes) as archive:
        chosen = benchmark_members(archive.members)
        for info in chosen:
            name = info.filename.rsplit("/", 1)[-1]
            member = members.get(name)
            if member is None:
                snapshot.unknown.append(name)
                continue
            ids = [benchmark.id for benchmark in member.benchmarks(name)]
            if twice := next((i for i in ids if i in read_from), None):
                snapshot.skip(twice, f"{name}: yields {twice}, already read from "
                              f"{read_from[twice]}; not read")
                continue
            part = Snapshot()
            try:
                _read(part, archive, info, name, member)
            except OverLimit:
                raise
            except PayloadError as error:  # this member fails alone
                snapshot.failed.update(dict.fromkeys(ids, error.reason))
                continue
            read_from.update(dict.fromkeys(ids, name))
            snapshot.extend(part)
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError(_nothing(snapshot, len(chosen)))
    return snapshot


def benchmark_members(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The root ``*.csv`` if there are any, else the ``*.csv`` directly under the single top
    folder; never the metadata files."""
    files = [i for i in infos if not i.is_dir() and i.filename.endswith(".csv")]
    chosen = [i for i in files if "/" not in i.filename]
    if not chosen:
        tops = {i.filename.split("/", 1)[0] for i in infos if "/" in i.filename}
        if len(tops) == 1:
            chosen = [i for i in files if i.filename.count("/") == 1]
    return [i for i in chosen if i.filename.rsplit("/", 1)[-1] not in NOT_BENCHMARKS]


def _nothing(snapshot: Snapshot, members: int) -> str:
    """Why a zip yields nothing at all."""
    reasons = list(dict.fromkeys(snapshot.failed.values()))
    if reasons:
        more = f" (and {len(reasons) - 1} more failing members)" if len(reasons) > 1 else ""
        return reasons[0] + more
    if snapshot.unknown:
        return ("no benchmark member this kind knows: "
                + ", ".join(f"{shown(name)} (unit unknown)" for name in snapshot.unknown[:5])
                + (", ..." if len(snapshot.unknown) > 5 else ""))
    if members == 0:
        return "no rows in any of its members: no *.csv at the root or under one top folder"
    return f"no rows in any of its {members} benchmark members"


def _read(snapshot: Snapshot, archive: ZipReader, info: zipfile.ZipInfo, name: str,
          member: Member) -> None:
    """The rows of a member, streamed. utf-8-sig drops a byte-order mark; newline="" keeps
    newlines inside quoted fields; a field over csv's limit (128 kB) is an error."""
    try:
        with archive.open(info) as raw:
            rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            _member(snapshot, name, member, rows)
    except (UnicodeDecodeError, csv.Error) as error:
        raise PayloadError(f"{info.filename}: unreadable: {error}") from None


def value_column(header: list[str], positions: dict[str, int]) -> str | None:
    """The rule: ``mean_score`` where the member has it, else the column just before
    ``Release date``."""
    if "mean_score" in positions:
        return "mean_score"
    release_at = positions.get("Release date")
    return header[release_at - 1].strip() if release_at else None


@dataclass
class _Metric:
    benchmark: str
    column: str
    at: int


def _member(snapshot: Snapshot, name: str, member: Member, table: Iterator[list[str]]) -> None:
    header = next(table, None)
    if header is None:
        raise PayloadError(f"{name}: empty, without a header row")
    positions: dict[str, int] = {}
    for index, column in enumerate(header):
        positions.setdefault(column.strip(), index)
    at = positions.get
    headline = member.value or value_column(header, positions)
    if headline is None:
        raise PayloadError(f"{name}: no value column (neither 'mean_score' nor a column "
                           "before 'Release date')")
    if headline not in positions:
        raise PayloadError(f"{name}: missing its value column {headline!r}")
    own = headline == "mean_score"  # Epoch's own runs: dated when they started, only
    if own and "Started at" not in positions:
        raise PayloadError(f"{name}: missing column 'Started at'")
    dates = [positions["Started at"]] if own else [
        positions[c] for c in RESULT_DATES if c in positions]
    fallback = None if own else at("Release date")
    if not dates and fallback is None:
        raise PayloadError(f"{name}: no date column ('Release date' or one of "
                           f"{', '.join(RESULT_DATES)})")
    id_at = at("id")  # only a lowercase id is a key
    groups = ([[positions[c] for c in group if c in positions] for group in member.key]
              if member.key and id_at is None else None)
    parts = [positions[c] for c in KEY_PARTS if c in positions]
    if id_at is None and not groups and not parts:
        raise PayloadError(f"{name}: no key column ('id' or 'Model version')")
    metrics = [_Metric(benchmark_id(name, member), headline, positions[headline])]
    metrics += [_Metric(b, c, positions[c]) for b, c in member.also if c in positions]
    subjects = [positions[c] for c in member.subjects if c in positions]
    named = [(attribute, positions[c]) for attribute, c in
             (*member.attributes.items(), ("org", "Organization")) if c in positions]
    method_at = at(member.method) if member.method else None
    ci = (at("CI_low"), at("CI_high")) if member.ci else (None, None)
    # A short row is read through a dict of the columns used, not padded to the header's
    # width (a header of a million columns over a million short rows).
    used = {p for p in (id_at, method_at, fallback, *ci, *dates, *parts, *subjects,
                        *(p for group in groups or () for p in group),
                        *(p for _, p in named), *(m.at for m in metrics)) if p is not None}
    need = max(used) + 1
    unit, scale = member.unit, member.scale
    low, high = UNIT_RANGES[unit]
    positive = unit == "min"  # 0 minutes is not a horizon
    occurrences: dict[str, int] = {}
    parsed_dates: dict[str, str | None] = {}
    blank = dict.fromkeys((m.benchmark for m in metrics), 0)
    append = snapshot.observations.append
    for number, row in enumerate(table, 2):
        cells: list[str] | dict[int, str] = row
        if len(row) < need:
            if not row:
                continue  # a blank line
            cells = {p: row[p] if p < len(row) else "" for p in used}
        if id_at is not None:
            key = cells[id_at].strip()
        elif groups is not None:
            key = " | ".join(next((v for p in group if (v := cells[p].strip())), "")
                             for group in groups)
            if not key.strip(" |"):
                key = ""
        else:
            key = " | ".join(v for p in parts if (v := cells[p].strip()))
            if key:
                occurrences[key] = n = occurrences.get(key, 0) + 1
                key = f"{key} #{n}"
        if not key:
            snapshot.skip(metrics[0].benchmark, f"{name} line {number}: no key, skipped")
            continue
        # A key seen twice goes on to the store, which refuses to pick one of two rows that
        # differ (the benchmark then fails alone at this poll).
        subject = key
        for position in subjects:
            if found := cells[position].strip():
                subject = found
                break
        for position in dates:  # the first non-blank wins, parsed or not
            if raw_date := cells[position].strip():
                break
        else:
            raw_date = cells[fallback].strip() if fallback is not None else ""
        if raw_date in parsed_dates:
            date = parsed_dates[raw_date]
        else:
            date = parsed_dates[raw_date] = result_date(raw_date, formats=_DATES)
        attributes: dict[str, AttrValue] = {}
        for attribute, position in named:
            if stated := cells[position].strip():
                attributes[attribute] = stated
        if member.method:  # METR rows: a blank or absent version is 1.0
            method = METHODS.get(cells[method_at].strip() if method_at is not None else "")
            if method:
                attributes["method"] = method
        for index, metric in enumerate(metrics):
            raw = cells[metric.at]
            try:  # the common case, checked inline: a plain number within the unit's range
                value: float | None = float(raw) * scale if len(raw) <= 100 else None
            except ValueError:
                value = None
                if not raw.strip():
                    blank[metric.benchmark] += 1  # e.g. no ECI score yet: not a result
                    continue
            if (value is None or not math.isfinite(value) or not low <= value <= high
                    or (positive and value == low)):
                value = snapshot.value(metric.benchmark, key, subject, raw, unit=unit,
                                       column=metric.column, scale=scale)  # says why not
                if value is None:
                    continue
            ci_low = ci_high = None
            if index == 0 and ci[0] is not None and ci[1] is not None:
                ci_low, ci_high = as_float(cells[ci[0]]), as_float(cells[ci[1]])
            append(Observation(metric.benchmark, key, subject,
                               value if scale == 1 else round(value, 9), date, ci_low,
                               ci_high, attributes))
    for benchmark, count in blank.items():
        if count:
            snapshot.blank[benchmark] = count
