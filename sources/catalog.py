"""What every configured source yields, and which source a claim on a benchmark reads.

A ``Catalog`` is built once from the settings (``sources.catalog``) and never changes: it is
frozen and hashable, so the claim language can key caches on it.

Primary sources (DESIGN sections 2 and 3): the built-in source listed first for a benchmark
(epoch-hub for ``osworld`` and for every benchmark it alone yields); a source a user adds is
primary for the new ids it yields, in the order the sources are configured; one that yields a
built-in id is read only with ``source = NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sources.base import OptionsError, Unit
from sources.kinds import Benchmark


@dataclass(frozen=True)
class CatalogSource:
    name: str
    kind: str
    builtin: bool
    benchmarks: tuple[Benchmark, ...]


@dataclass(frozen=True)
class Catalog:
    sources: tuple[CatalogSource, ...]  # built-in sources first, in DESIGN's order
    _primary: dict[str, tuple[str, Benchmark]] = field(
        init=False, compare=False, hash=False, repr=False)
    _hash: int = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        primary: dict[str, tuple[str, Benchmark]] = {}
        for builtin_pass in (True, False):
            for source in self.sources:
                if source.builtin is not builtin_pass:
                    continue
                for benchmark in source.benchmarks:
                    first = primary.setdefault(benchmark.id, (source.name, benchmark))[1]
                    if first.unit != benchmark.unit:
                        raise OptionsError(
                            "unit", f"{benchmark.id} is measured in {first.unit} (as "
                            f"{primary[benchmark.id][0]} yields it), not {benchmark.unit}",
                            source=source.name)
        object.__setattr__(self, "_primary", primary)
        # Hashed once: the claim language keys its cache on the catalog on every parse.
        object.__setattr__(self, "_hash", hash(self.sources))

    def __hash__(self) -> int:
        return self._hash

    def names(self) -> tuple[str, ...]:
        return tuple(source.name for source in self.sources)

    def source(self, name: str) -> CatalogSource | None:
        return next((source for source in self.sources if source.name == name), None)

    def benchmarks(self, source: str) -> dict[str, Benchmark]:
        """What ``source`` yields (empty for a source the catalog does not hold)."""
        found = self.source(source)
        return {b.id: b for b in found.benchmarks} if found else {}

    def benchmark(self, benchmark: str, source: str | None = None) -> Benchmark | None:
        """``benchmark`` as ``source`` (default: its primary source) yields it."""
        if source is None:
            return self._primary[benchmark][1] if benchmark in self._primary else None
        return self.benchmarks(source).get(benchmark)

    def primary(self, benchmark: str) -> str | None:
        """The source a claim on ``benchmark`` reads without ``source = NAME``."""
        return self._primary[benchmark][0] if benchmark in self._primary else None

    def unit(self, benchmark: str) -> Unit | None:
        return self._primary[benchmark][1].unit if benchmark in self._primary else None

    def ids(self) -> tuple[str, ...]:
        """Every benchmark some source yields: the built-in ones first, in their order."""
        return tuple(self._primary)

    def yielding(self, benchmark: str) -> tuple[str, ...]:
        """Every source that yields ``benchmark``, the primary one first (corroboration)."""
        primary = self.primary(benchmark)
        others = [s.name for s in self.sources if s.name != primary
                  and any(b.id == benchmark for b in s.benchmarks)]
        return (primary, *others) if primary else ()
