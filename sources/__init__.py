"""Source kinds: fetch -> parse -> observations. Nothing here touches storage.

The registry is explicit: ``KINDS`` maps a kind name to its module, and ``BUILTIN`` lists
the sources resolver knows out of the box (DESIGN section 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from sources import epoch_zip, metr_yaml, osworld_xlsx, rss, swe_bench

KINDS: dict[str, ModuleType] = {
    swe_bench.KIND: swe_bench,
    osworld_xlsx.KIND: osworld_xlsx,
    metr_yaml.KIND: metr_yaml,
    epoch_zip.KIND: epoch_zip,
    rss.KIND: rss,
}

# The unit of every benchmark any kind yields.
UNITS: dict[str, str] = {
    "swe-bench-verified": "%",
    "swe-bench-lite": "%",
    "swe-bench-full": "%",
    "swe-bench-multimodal": "%",
    "swe-bench-bash-only": "%",
    "swe-bench-multilingual": "%",
    "osworld-verified": "%",
    "osworld-self-reported": "%",
    "osworld": "%",
    "metr-p50-horizon": "min",
    "metr-p80-horizon": "min",
}


@dataclass(frozen=True)
class BuiltinSource:
    name: str
    kind: str
    url: str
    benchmarks: tuple[str, ...]
    late_days: int = 30
    confirm_hours: int = 72


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
                  ("swe-bench-verified", "swe-bench-bash-only", "osworld", *_METR)),
)

# Attributes of kinds this release cannot parse yet (none at the moment), so that claims on
# their benchmarks can be checked and registered already.
_PLANNED: dict[str, dict[str, dict[str, type]]] = {}


class UnknownKind(KeyError):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)

    def __str__(self) -> str:
        return f"unknown source kind {self.kind!r}; known kinds: {', '.join(sorted(KINDS))}"


def kind_module(kind: str) -> ModuleType:
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKind(kind) from None


def benchmarks_of(source: str, kind: str) -> dict[str, dict[str, type]]:
    """The benchmarks a source yields, each with the attributes it states: a built-in source
    yields those DESIGN lists for it; a user-added one whatever its kind can."""
    attributes: dict[str, dict[str, type]] = (
        KINDS[kind].BENCHMARKS if kind in KINDS else _PLANNED.get(kind, {}))
    known = builtin(source)
    if known is not None and known.kind == kind:
        return {b: attributes.get(b, {}) for b in known.benchmarks}
    return attributes


def builtin(name: str) -> BuiltinSource | None:
    return next((source for source in BUILTIN if source.name == name), None)


def primary_source(benchmark: str) -> str | None:
    """The built-in source listed first for ``benchmark``."""
    for source in BUILTIN:
        if benchmark in benchmarks_of(source.name, source.kind):
            return source.name
    return None
