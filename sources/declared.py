"""Declared leaderboards (kinds ``csv`` and ``json``): a user maps any table without code.

    [sources.arc-prize]
    kind = "json"
    rows = "[?datasetId=='v2_Semi_Private']"  # JMESPath (json only) to a list of row objects
    benchmark = "arc-agi-2-semi-private"
    unit = "%"                                 # % | min | pts
    scale = 100                                # raw x scale
    value = "score"                            # field (json) or column (csv) names
    date = "modelReleaseDate"
    key = "modelId"                            # optional: else subject + n-th occurrence
    subject = "modelDisplayName"
    attributes = { org = "provider" }          # attribute = field; always text

A mistake in the mapping is an ``OptionsError`` naming the field (found at start by
``check``). At parse, a ``rows`` expression that yields no list, or a mapped name absent from
the header (csv) or from every row (json), is a ``PayloadError`` naming the field; a row
without its value is rejected, without its date undated, without an attribute has it unknown.
Values pass the same checks as every kind's (``Snapshot.value``).
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sources.base import (
    MAX_BYTES,
    AttrValue,
    Observation,
    OptionsError,
    PayloadError,
    Rejection,
    Snapshot,
    Unit,
    check_size,
    result_date,
    shown,
    text,
)
from sources.kinds import Benchmark, check_attribute, check_benchmark_id, scale_of, unit_of

KINDS = ("csv", "json")
OPTIONS = ("rows", "benchmark", "unit", "scale", "value", "date", "key", "subject",
           "attributes")
_ABSENT: Any = object()  # a field the row does not have


@dataclass(frozen=True)
class Declaration:
    """A source's mapping, checked."""

    benchmark: str
    unit: Unit
    scale: float
    value: str
    date: str
    key: str | None
    subject: str | None
    attributes: tuple[tuple[str, str], ...]  # (attribute, field)
    rows: str | None

    def mapped(self) -> list[tuple[str, str]]:
        """(option, field name) of every name the mapping reads."""
        names = [("value", self.value), ("date", self.date)]
        names += [(option, name) for option, name in (("key", self.key),
                                                      ("subject", self.subject)) if name]
        return names + [(f"attributes.{a}", name) for a, name in self.attributes]


def declaration(kind_name: str, options: Mapping[str, Any]) -> Declaration:
    """The mapping in ``options``, or an OptionsError naming the field that is wrong."""
    for option in options:
        if option not in OPTIONS or (option == "rows" and kind_name == "csv"):
            known = ", ".join(o for o in OPTIONS if o != "rows" or kind_name == "json")
            problem = ("only a json source selects rows (JMESPath)" if option == "rows"
                       else f"unknown option of a {kind_name} source; known: {known}")
            raise OptionsError(str(option), problem)
    benchmark = check_benchmark_id(options.get("benchmark"))
    unit = unit_of(options.get("unit"))
    scale = scale_of(options.get("scale"))
    value = _required(options, "value", "the field that holds the value")
    date = _required(options, "date", "the field that holds the result's date")
    key = _name(options, "key", None)
    subject = _name(options, "subject", None if key else
                    "the field that names the row's model (or give a key)")
    raw = options.get("attributes", {})
    if not isinstance(raw, Mapping):
        raise OptionsError("attributes", 'must be a table of attribute = field, such as '
                           '{ org = "provider" }')
    attributes = []
    for attribute, name in raw.items():
        where = f"attributes.{attribute}" if isinstance(attribute, str) else "attributes"
        check_attribute(attribute, where)
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise OptionsError(where, f"must name a field, not {shown(name)}")
        attributes.append((attribute, name))
    rows = options.get("rows")
    if rows is not None:
        if not isinstance(rows, str) or len(rows) > 1000:
            raise OptionsError("rows", "must be a JMESPath expression (text)")
        _compiled(rows)
    return Declaration(benchmark, unit, scale, value, date, key, subject, tuple(attributes),
                       rows)


def _required(options: Mapping[str, Any], option: str, missing: str) -> str:
    name = _name(options, option, missing)
    assert name is not None  # _name raises when it is missing
    return name


def _name(options: Mapping[str, Any], option: str, missing: str | None) -> str | None:
    raw = options.get(option)
    if raw is None:
        if missing:
            raise OptionsError(option, f"missing: {missing}")
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        raise OptionsError(option, f"must name a field or column, not {shown(raw)}")
    return raw


@functools.lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    import jmespath  # type: ignore[import-untyped]  # loaded when a json source is read

    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as error:
        lines = str(error).strip().splitlines()
        problem = lines[0].rstrip(":") if lines else "a syntax error"
        if isinstance(at := getattr(error, "lex_position", None), int):
            problem += f" at character {at}"
        raise OptionsError("rows", f"{shown(expression)} does not compile: {problem}") from None


@dataclass(frozen=True)
class Declared:
    """The kind ``csv`` or ``json``: one benchmark, mapped by the source's options."""

    name: str

    def benchmarks(self, options: Mapping[str, Any]) -> dict[str, Benchmark]:
        try:
            mapping = declaration(self.name, options)
        except OptionsError:
            return {}  # nothing until the mapping is right (check says why)
        attributes = {attribute: str for attribute, _ in mapping.attributes}
        return {mapping.benchmark: Benchmark(mapping.benchmark, mapping.unit, attributes)}

    def check(self, options: Mapping[str, Any]) -> None:
        declaration(self.name, options)

    def parse(self, body: bytes, headers: Mapping[str, str] | None = None, *,
              max_bytes: int = MAX_BYTES,
              options: Mapping[str, Any] | None = None) -> Snapshot:
        check_size(body, max_bytes)
        try:
            mapping = declaration(self.name, options or {})
        except OptionsError as error:
            raise PayloadError(f"the source's mapping is wrong: {error}") from None
        if self.name == "csv":
            rows, get = _csv_rows(body, mapping)
        else:
            rows, get = _json_rows(body, mapping)
        snapshot = Snapshot()
        _read(snapshot, mapping, rows, get, objects=self.name == "json")
        if not snapshot.observations and not snapshot.rejections:
            raise PayloadError("no row with a key and a value")
        return snapshot


CSV = Declared("csv")
JSON = Declared("json")

Getter = Callable[[Any, str], Any]  # (row, field) -> cell, or _ABSENT


def _csv_rows(body: bytes, mapping: Declaration) -> tuple[Iterable[tuple[str, Any]], Getter]:
    try:
        table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError as error:
        raise PayloadError(f"not UTF-8 text: {error}") from None
    except csv.Error as error:
        raise PayloadError(f"not CSV: {error}") from None
    if not table:
        raise PayloadError("empty: no header row")
    positions: dict[str, int] = {}
    for index, column in enumerate(table[0]):
        positions.setdefault(column.strip(), index)
    for option, name in mapping.mapped():
        if name.strip() not in positions:
            raise PayloadError(f"{option} column {shown(name)} is not in the header")
    if len(table) == 1:
        raise PayloadError("no rows under the header")

    def get(row: list[str], name: str) -> Any:
        position = positions[name.strip()]
        return row[position] if position < len(row) else _ABSENT

    return ((f"line {number}", row) for number, row in enumerate(table[1:], 2) if row), get


def _json_rows(body: bytes, mapping: Declaration) -> tuple[Iterable[tuple[str, Any]], Getter]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:  # ValueError: also a 5,000-digit integer
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise PayloadError(f"not JSON: {reason}") from None
    if mapping.rows is not None:
        import jmespath

        try:
            selected = _compiled(mapping.rows).search(document)
        except (jmespath.exceptions.JMESPathError, RecursionError, TypeError,
                ValueError) as error:
            raise PayloadError(f"rows {shown(mapping.rows)} cannot be applied: "
                               f"{' '.join(str(error).split())[:200]}") from None
        if not isinstance(selected, list):
            raise PayloadError(f"rows {shown(mapping.rows)} yields {_what(selected)}, "
                               "not a list")
    elif isinstance(document, list):
        selected = document
    else:
        raise PayloadError(f"the document is {_what(document)}, not a list of rows "
                           "(select them with rows)")
    if not selected:
        raise PayloadError("no rows" + (f": rows {shown(mapping.rows)} yields an empty list"
                                        if mapping.rows else ""))
    objects = [row for row in selected if isinstance(row, dict)]
    for option, name in mapping.mapped():
        if not any(name in row for row in objects):
            raise PayloadError(f"{option} field {shown(name)} is in none of the "
                               f"{len(selected)} rows")

    def get(row: dict[str, Any], name: str) -> Any:
        return row.get(name, _ABSENT)

    return ((f"row {number}", row) for number, row in enumerate(selected, 1)), get


def _what(value: Any) -> str:
    """A JSON value's kind, as JSON names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an object"


def _read(snapshot: Snapshot, mapping: Declaration, rows: Iterable[tuple[str, Any]],
          get: Getter, *, objects: bool) -> None:
    benchmark = mapping.benchmark
    occurrences: dict[str, int] = {}
    for where, row in rows:
        if objects and not isinstance(row, dict):
            snapshot.skip(benchmark, f"{where}: not an object, skipped")
            continue
        subject = _cell(get(row, mapping.subject)) if mapping.subject else ""
        if mapping.key:
            key = _cell(get(row, mapping.key))
            if not key:
                snapshot.skip(benchmark, f"{where}: no key in {shown(mapping.key)}, skipped")
                continue
        elif subject:
            occurrences[subject] = n = occurrences.get(subject, 0) + 1
            key = f"{subject} #{n}"
        else:
            snapshot.skip(benchmark, f"{where}: no subject in {shown(mapping.subject)}, "
                          "skipped")
            continue
        # A key seen twice goes on to the store, which refuses to pick one of two rows that
        # differ (the benchmark then fails at this poll, keeping its rows).
        subject = subject or key
        raw = get(row, mapping.value)
        if raw is _ABSENT or raw is None or (isinstance(raw, str) and not raw.strip()):
            snapshot.rejections.append(Rejection(benchmark, key, subject,
                                                 f"no value in {shown(mapping.value)}"))
            continue
        value = snapshot.value(benchmark, key, subject, raw, unit=mapping.unit,
                               column=f"value {shown(mapping.value)}", scale=mapping.scale)
        if value is None:
            continue
        date = get(row, mapping.date)
        attributes: dict[str, AttrValue] = {}
        for attribute, name in mapping.attributes:
            if stated := _cell(get(row, name)):
                attributes[attribute] = stated
        snapshot.observations.append(Observation(
            benchmark=benchmark, key=key, subject=subject, value=round(value, 9),
            result_date=result_date(date) if date is not _ABSENT else None,
            attributes=attributes))


def _cell(raw: Any) -> str:
    """A cell as text: strings and plain numbers, booleans as true/false; else ""."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    found = text(raw) if raw is not _ABSENT else None
    return found.strip() if found else ""
