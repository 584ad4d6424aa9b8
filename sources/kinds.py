"""The source-kind contract: what a kind yields (``Benchmark``), how its options are checked,
and how it parses a payload.

A kind is one object per module (``SOURCE_KIND``), named in the registry (``KINDS``) of
``sources/__init__.py``. Kinds that take no options are a ``FixedKind``: a name, the
benchmarks it yields as data, and its module's ``parse`` function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from sources.base import MAX_BYTES, UNITS, OptionsError, Snapshot, Unit, shown

AttrType = type[bool] | type[int] | type[float] | type[str]

# A benchmark id: lowercase words joined by '-' ("arc-agi-2", "metr-p50-horizon").
BENCHMARK_ID = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
# An attribute a claim can filter on (`org = "..."`): a lowercase word of the claim language.
ATTRIBUTE_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# Words of the claim language that cannot name a declared (text) attribute: the grammar's
# own words and the built-in filters that are not `NAME = "..."`.
RESERVED_WORDS = frozenset({
    "where", "and", "by", "between", "dated", "result", "first-seen", "model", "source",
    "method", "checked", "open-weights", "open-source", "single-rollout", "steps", "runs",
})


@dataclass(frozen=True)
class Benchmark:
    """A benchmark a source yields: its id, its unit, and the attributes its rows state
    (name -> bool | int | float | str), in the order a user reads them."""

    id: str
    unit: Unit
    attributes: Mapping[str, AttrType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    def __hash__(self) -> int:
        return hash((self.id, self.unit, tuple(self.attributes.items())))


class SourceKind(Protocol):
    """One kind of source. ``benchmarks`` and ``check`` read only the options; ``parse`` is
    pure: bytes (and headers) in, a Snapshot out, a PayloadError when the payload cannot be
    used."""

    @property
    def name(self) -> str: ...

    def benchmarks(self, options: Mapping[str, Any]) -> dict[str, Benchmark]:
        """What a source of this kind yields given its options."""
        ...

    def check(self, options: Mapping[str, Any]) -> None:
        """Raise OptionsError for a config mistake in ``options``."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str] | None = None, *,
              max_bytes: int = MAX_BYTES,
              options: Mapping[str, Any] | None = None) -> Snapshot: ...


Parser = Callable[..., Snapshot]  # parse(body, headers, *, max_bytes) -> Snapshot


@dataclass(frozen=True)
class FixedKind:
    """A kind that takes no options: it yields the same benchmarks for every source."""

    name: str
    yields: tuple[Benchmark, ...]
    reader: Parser

    def benchmarks(self, options: Mapping[str, Any]) -> dict[str, Benchmark]:
        return {benchmark.id: benchmark for benchmark in self.yields}

    def check(self, options: Mapping[str, Any]) -> None:
        if options:
            raise OptionsError(str(next(iter(options))),
                               f"the {self.name} kind takes no options")

    def parse(self, body: bytes, headers: Mapping[str, str] | None = None, *,
              max_bytes: int = MAX_BYTES,
              options: Mapping[str, Any] | None = None) -> Snapshot:
        return self.reader(body, headers, max_bytes=max_bytes)


# -- checks every kind's options share ----------------------------------------------------

def unit_of(raw: Any, field_name: str = "unit") -> Unit:
    for unit in UNITS:
        if raw == unit:
            return unit
    if raw is None:
        raise OptionsError(field_name, f"missing; one of {', '.join(UNITS)}")
    raise OptionsError(field_name, f"unknown unit {shown(raw)}; known: {', '.join(UNITS)}")


def scale_of(raw: Any, field_name: str = "scale") -> float:
    if raw is None:
        return 1.0
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw < 1e12:
        raise OptionsError(field_name, f"must be a positive number (raw x scale), not "
                           f"{shown(raw)}")
    return float(raw)


def check_attribute(name: Any, field_name: str) -> str:
    if not isinstance(name, str) or not ATTRIBUTE_WORD.fullmatch(name) or len(name) > 40:
        raise OptionsError(field_name, f"{shown(name)} is not a claim word (lowercase "
                           "letters and digits, joined by '-')")
    if name in RESERVED_WORDS:
        raise OptionsError(field_name, f"{name!r} is a word of the claim language; "
                           "choose another name")
    return name


def check_benchmark_id(raw: Any, field_name: str = "benchmark") -> str:
    if raw is None:
        raise OptionsError(field_name, "missing: the id of the benchmark this source yields")
    if not isinstance(raw, str) or not BENCHMARK_ID.fullmatch(raw) or len(raw) > 60:
        raise OptionsError(field_name, f"{shown(raw)} is not a benchmark id (lowercase "
                           "letters and digits, joined by '-')")
    return raw
