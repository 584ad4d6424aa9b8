"""METR time horizons (kind ``metr-yaml``): ``benchmark_results*.yaml`` in all three eras.

- "agents" era: ``results.<model>.agents.<agent>.{p50,p80}_horizon_length.{estimate,ci_*}``;
- "metrics" era: ``results.<model>.metrics.{p50,p80}_horizon_length``, ``scaffolds: [...]``;
- TH1.1: the metrics layout plus a per-model ``benchmark_name``.

Each model yields one row per metric, keyed by the model key (plus the agent where a model
has several), valued in minutes, dated by the model's ``release_date``; ``method`` is 1.0 or
1.1 from the model's ``benchmark_name`` (else the file's).

YAML aliases and anchors are refused before anything is constructed (the METR files use none):
a 15 kB alias bomb would otherwise expand to gigabytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sources.base import (
    MAX_BYTES,
    AttrValue,
    Observation,
    PayloadError,
    Snapshot,
    as_float,
    check_size,
    result_date,
    text,
)
from sources.kinds import Benchmark, FixedKind

KIND = "metr-yaml"
METRICS = {"p50_horizon_length": "metr-p50-horizon", "p80_horizon_length": "metr-p80-horizon"}
ATTRIBUTES: dict[str, type] = {"method": str, "scaffold": str}
METHODS = {"METR-Horizon-v1": "1.0", "METR-Horizon-v1.0": "1.0", "METR-Horizon-v1.1": "1.1"}


def parse(body: bytes, headers: Mapping[str, str] | None = None, *,
          max_bytes: int = MAX_BYTES) -> Snapshot:
    check_size(body, max_bytes)
    data = _load(body)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise PayloadError("no 'results' mapping in the YAML")
    file_method = _method(data.get("benchmark_name"))
    snapshot = Snapshot()
    for raw_model, entry in data["results"].items():
        model = text(raw_model) or str(raw_model)  # a key: a scalar (a date, None...)
        if not isinstance(entry, dict):
            snapshot.skip("", f"{model}: not a mapping, skipped")
            continue
        method = _method(entry.get("benchmark_name")) or file_method
        released = result_date(entry.get("release_date"))
        for scaffold, metrics, several in _runs(entry):
            key = f"{model}/{scaffold}" if several else model
            attributes: dict[str, AttrValue] = {}
            if method:
                attributes["method"] = method
            if scaffold:
                attributes["scaffold"] = scaffold
            for field, benchmark in METRICS.items():
                _metric(snapshot, benchmark, key, model, metrics.get(field), released,
                        attributes)
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError("no horizon estimates found")
    return snapshot


SOURCE_KIND = FixedKind(
    KIND, tuple(Benchmark(benchmark, "min", ATTRIBUTES) for benchmark in METRICS.values()),
    parse)


def _load(body: bytes) -> Any:
    """The YAML document, by the C safe loader when available, after refusing aliases."""
    import yaml  # loaded when METR is parsed, not by every command

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        # Without a '&' or '*' byte (UTF-8 or UTF-16) there is no anchor or alias to look for.
        if b"&" in body or b"*" in body:
            for event in yaml.parse(body, Loader=loader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    mark = event.start_mark
                    raise PayloadError("YAML anchors and aliases are refused"
                                       + (f" (line {mark.line + 1})" if mark else ""))
        return yaml.load(body, Loader=loader)
    except yaml.YAMLError as error:
        raise PayloadError(f"not YAML: {_first_line(error)}") from None
    except (ValueError, OverflowError, TypeError, RecursionError) as error:
        # A constructor refusing a value: a date 2025-13-45, a 5,000-digit integer.
        raise PayloadError(f"not YAML: a value cannot be read: {_first_line(error)}") from None


def _method(raw: Any) -> str | None:
    return METHODS.get(raw) if isinstance(raw, str) else None


def _runs(entry: dict[str, Any]) -> list[tuple[str | None, dict[str, Any], bool]]:
    """(scaffold, metrics, whether the model has several) for each run of a model."""
    agents = entry.get("agents")
    if isinstance(agents, dict):
        runs = [(None if name in (None, "null") else text(name) or str(name), metrics)
                for name, metrics in agents.items() if isinstance(metrics, dict)]
        return [(name, metrics, len(runs) > 1) for name, metrics in runs]
    metrics = entry.get("metrics")
    if not isinstance(metrics, dict):
        return []
    # The first scaffold listed is the model's main one; the others are task-family helpers.
    listed = entry.get("scaffolds")
    scaffolds = [name for s in (listed if isinstance(listed, list) else ())
                 if s != "null" and (name := text(s)) is not None]
    return [(scaffolds[0] if scaffolds else None, metrics, False)]


def _metric(snapshot: Snapshot, benchmark: str, key: str, subject: str, raw: Any,
            released: str | None, attributes: dict[str, AttrValue]) -> None:
    if not isinstance(raw, dict):
        return
    value = snapshot.value(benchmark, key, subject, raw.get("estimate"), unit="min",
                           column="estimate")
    if value is None:
        return
    snapshot.observations.append(Observation(
        benchmark=benchmark, key=key, subject=subject, value=value, result_date=released,
        ci_low=as_float(raw.get("ci_low")), ci_high=as_float(raw.get("ci_high")),  # finite
        attributes=dict(attributes),
    ))


def _first_line(error: Exception) -> str:
    message = str(error).strip()
    return message.splitlines()[0][:200] if message else type(error).__name__
