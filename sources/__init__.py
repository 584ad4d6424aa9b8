"""Source kinds: fetch -> parse -> observations. Nothing here touches storage.

The registry is explicit: ``REGISTRY`` is the tuple of source kinds (each one object, see
``sources.kinds.SourceKind``), looked up by name with ``kind(name)``; ``BUILTIN`` lists the
sources resolver knows out of the box (DESIGN section 2), and ``catalog(configured)`` says what
every configured source yields and which one a claim on a benchmark reads.

The older module-level answers (``KINDS``, ``UNITS``, ``kind_module``, ``benchmarks_of``,
``primary_source``) are kept, computed from the same data, until resolver/ reads the catalog.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sources import declared, epoch_zip, metr_yaml, osworld_xlsx, rss, swe_bench
from sources.base import OptionsError
from sources.catalog import Catalog, CatalogSource
from sources.kinds import Benchmark, SourceKind

__all__ = [
    "BUILTIN", "KINDS", "REGISTRY", "UNITS", "Benchmark", "BuiltinSource", "Catalog",
    "SourceKind", "UnknownKind", "benchmarks_of", "builtin", "catalog", "kind", "kind_module",
    "primary_source",
]

REGISTRY: tuple[SourceKind, ...] = (
    swe_bench.SOURCE_KIND,
    osworld_xlsx.SOURCE_KIND,
    metr_yaml.SOURCE_KIND,
    epoch_zip.SOURCE_KIND,
    rss.SOURCE_KIND,
    declared.CSV,
    declared.JSON,
)
_BY_NAME: dict[str, SourceKind] = {k.name: k for k in REGISTRY}


class UnknownKind(KeyError):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)

    def __str__(self) -> str:
        return f"unknown source kind {self.kind!r}; known kinds: {', '.join(_BY_NAME)}"


def kind(name: str) -> SourceKind:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownKind(name) from None


@dataclass(frozen=True)
class BuiltinSource:
    name: str
    kind: str
    url: str
    benchmarks: tuple[str, ...]
    late_days: int = 30
    confirm_hours: int = 72
    options: Mapping[str, Any] = field(default_factory=dict)  # the kind's (none today)


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
    BuiltinSource("epoch-hub", "epoch-zip", "https://epoch.ai/data/benchmark_data.zip",
                  tuple(epoch_zip.SOURCE_KIND.benchmarks({}))),
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


# -- the older answers, kept while resolver/ moves to the catalog --------------------------

# The kinds resolver/ can configure and poll today: not yet the declared csv/json, which need
# their options passed through the settings and the poller.
KINDS: dict[str, SourceKind] = {k.name: k for k in REGISTRY if k.name not in declared.KINDS}

# The unit of every built-in benchmark that today's claim language can state: percent and
# minutes. Points benchmarks (eci, webdev-arena, geobench, lech-mazur-writing) wait for the
# claim language to take a bare number (Catalog.unit answers for them).
UNITS: dict[str, str] = {
    benchmark: unit for benchmark in builtin_catalog().ids()
    if (unit := builtin_catalog().unit(benchmark)) in ("%", "min")
}

# What epoch-hub stated for these benchmarks before every member was read; the old claim
# checks (and their tests) list exactly these. The catalog states org and the rest.
_BEFORE_THE_HUB: dict[str, tuple[str, ...]] = {
    "swe-bench-verified": (), "swe-bench-bash-only": (), "osworld": (),
    "metr-p50-horizon": ("method",), "metr-p80-horizon": ("method",),
}


def kind_module(kind_name: str) -> SourceKind:
    """The kind named ``kind_name`` (the old name of ``kind``)."""
    return kind(kind_name)


def benchmarks_of(source: str, kind_name: str) -> dict[str, dict[str, type]]:
    """The benchmarks a source yields, each with the attributes it states: a built-in source
    yields those DESIGN lists for it; a user-added one whatever its kind yields without
    options."""
    known = builtin(source)
    if known is not None and known.kind == kind_name:
        yields = builtin_catalog().benchmarks(source)
    elif kind_name in _BY_NAME:
        yields = kind(kind_name).benchmarks({})
    else:
        return {}
    result: dict[str, dict[str, type]] = {}
    for benchmark in yields.values():
        attributes: dict[str, type] = dict(benchmark.attributes)
        if kind_name == epoch_zip.KIND and benchmark.id in _BEFORE_THE_HUB:
            attributes = {a: t for a, t in attributes.items()
                          if a in _BEFORE_THE_HUB[benchmark.id]}
        result[benchmark.id] = attributes
    return result


def primary_source(benchmark: str) -> str | None:
    """The built-in source listed first for ``benchmark``."""
    return builtin_catalog().primary(benchmark)
