"""Source kinds: fetch -> parse -> observations. Nothing here touches storage.

The registry is explicit: ``KINDS`` names every source kind and where it is defined (each
one object, see ``sources.kinds.SourceKind``), looked up by name with ``kind(name)``, which
imports the kind's module then (a command imports the parsers it uses); ``registry()`` is
every kind. ``BUILTIN`` lists the
sources resolver knows out of the box (DESIGN section 2), and ``catalog(configured)`` says what
every configured source yields and which one a claim on a benchmark reads.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sources.base import OptionsError
from sources.catalog import Catalog, CatalogSource
from sources.kinds import Benchmark, SourceKind

__all__ = [
    "BUILTIN", "KINDS", "Benchmark", "BuiltinSource", "Catalog", "SourceKind",
    "UnknownKind", "builtin", "builtin_catalog", "catalog", "kind", "registry",
]

# Each kind's name -> (its module, the object there); tested against each object's name.
KINDS: dict[str, tuple[str, str]] = {
    "swe-bench-leaderboards": ("sources.swe_bench", "SOURCE_KIND"),
    "osworld-xlsx": ("sources.osworld_xlsx", "SOURCE_KIND"),
    "metr-yaml": ("sources.metr_yaml", "SOURCE_KIND"),
    "epoch-zip": ("sources.epoch_zip", "SOURCE_KIND"),
    "rss": ("sources.rss", "SOURCE_KIND"),
    "csv": ("sources.declared", "CSV"),
    "json": ("sources.declared", "JSON"),
}


class UnknownKind(KeyError):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)

    def __str__(self) -> str:
        return f"unknown source kind {self.kind!r}; known kinds: {', '.join(KINDS)}"


def kind(name: str) -> SourceKind:
    try:
        module, attribute = KINDS[name]
    except KeyError:
        raise UnknownKind(name) from None
    return cast(SourceKind, getattr(importlib.import_module(module), attribute))


def registry() -> tuple[SourceKind, ...]:
    """Every source kind, in the order of ``KINDS`` (importing them all)."""
    return tuple(kind(name) for name in KINDS)


@dataclass(frozen=True)
class BuiltinSource:
    name: str
    kind: str
    url: str
    listed: tuple[str, ...] | None  # what it yields; None: all its kind does, read when asked
    late_days: int = 30
    confirm_hours: int = 72
    options: Mapping[str, Any] = field(default_factory=dict)  # the kind's (none today)

    @property
    def benchmarks(self) -> tuple[str, ...]:
        if self.listed is not None:
            return self.listed
        return tuple(kind(self.kind).benchmarks(self.options))


_SWE_BENCH = ("swe-bench-verified", "swe-bench-lite", "swe-bench-full", "swe-bench-multimodal",
              "swe-bench-bash-only", "swe-bench-multilingual")
_METR = ("metr-p50-horizon", "metr-p80-horizon")

# In the order of DESIGN section 2: the first source listed for a benchmark is its primary.
BUILTIN: tuple[BuiltinSource, ...] = (
    BuiltinSource(
        "swe-bench", "swe-bench-leaderboards",
        "https://raw.githubusercontent.com/SWE-bench/swe-bench.github.io/master/data/leaderboards.json",
        _SWE_BENCH,
    ),
    BuiltinSource(
        "osworld-verified", "osworld-xlsx",
        "https://os-world.github.io/static/data/osworld_verified_results.xlsx",
        ("osworld-verified",),
    ),
    BuiltinSource(
        "osworld-self-reported", "osworld-xlsx",
        "https://os-world.github.io/static/data/self_reported_results.xlsx",
        ("osworld-self-reported",),
    ),
    BuiltinSource("metr", "metr-yaml", "https://metr.org/assets/benchmark_results_1_1.yaml",
                  _METR, late_days=90, confirm_hours=336),
    BuiltinSource("metr-1-0", "metr-yaml", "https://metr.org/assets/benchmark_results_1_0.yaml",
                  _METR, late_days=90, confirm_hours=336),
    BuiltinSource("metr-feed", "rss", "https://metr.org/feed.xml", ()),
    # Every member of its table (sources.epoch_members).
    BuiltinSource("epoch-hub", "epoch-zip", "https://epoch.ai/data/benchmark_data.zip", None),
)


def builtin(name: str) -> BuiltinSource | None:
    return next((source for source in BUILTIN if source.name == name), None)


def catalog(configured: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None) -> Catalog:
    """What every source yields: the built-in ones (with the options ``configured`` gives
    them), then every other source of ``configured`` (name -> (kind, options)), in its
    order. Raises OptionsError (naming ``sources.NAME.field``) for a config mistake, and
    UnknownKind for a kind no module implements."""
    configured = configured or {}
    entries: list[CatalogSource] = []
    for source in BUILTIN:
        kind_name, options = configured.get(source.name, (source.kind, source.options))
        if kind_name != source.kind:
            raise OptionsError("kind", f"the built-in source {source.name} is of kind "
                               f"{source.kind}", source=source.name)
        yields = _yields(source.name, kind_name, options)
        # A built-in source yields what DESIGN lists for it, and whatever its options add.
        added = set(yields) - set(kind(kind_name).benchmarks({}))
        entries.append(CatalogSource(source.name, kind_name, True, tuple(
            b for i, b in yields.items() if i in source.benchmarks or i in added)))
    for name, (kind_name, options) in configured.items():
        if builtin(name) is None:
            entries.append(CatalogSource(name, kind_name, False,
                                         tuple(_yields(name, kind_name, options).values())))
    return Catalog(tuple(entries))


def _yields(name: str, kind_name: str, options: Mapping[str, Any]) -> dict[str, Benchmark]:
    found = kind(kind_name)
    try:
        found.check(options)
    except OptionsError as error:
        raise error.within(name) from None
    return found.benchmarks(options)


@functools.cache
def builtin_catalog() -> Catalog:
    """The catalog of the built-in sources as shipped."""
    return catalog()
