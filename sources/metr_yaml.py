"""METR time horizons (kind ``metr-yaml``): ``benchmark_results*.yaml`` in all three eras.

- "agents" era: ``results.<model>.agents.<agent>.{p50,p80}_horizon_length.{estimate,ci_*}``;
- "metrics" era: ``results.<model>.metrics.{p50,p80}_horizon_length``, ``scaffolds: [...]``;
- TH1.1: the metrics layout plus a per-model ``benchmark_name``.

Each model yields one row per metric, keyed by the model key (plus the agent where a model
has several), valued in minutes, dated by the model's ``release_date``; ``method`` is 1.0 or
1.1 from the model's ``benchmark_name`` (else the file's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sources.base import AttrValue, Observation, PayloadError, Snapshot, as_float

KIND = "metr-yaml"
METRICS = {"p50_horizon_length": "metr-p50-horizon", "p80_horizon_length": "metr-p80-horizon"}
ATTRIBUTES: dict[str, type] = {"method": str, "scaffold": str}
BENCHMARKS: dict[str, dict[str, type]] = dict.fromkeys(METRICS.values(), ATTRIBUTES)
METHODS = {"METR-Horizon-v1": "1.0", "METR-Horizon-v1.0": "1.0", "METR-Horizon-v1.1": "1.1"}

def parse(body: bytes, headers: Mapping[str, str] | None = None) -> Snapshot:
    import yaml  # loaded when METR is parsed, not by every command

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(body, Loader=loader)  # a safe loader: the C one when available
    except yaml.YAMLError as error:
        raise PayloadError(f"not YAML: {_first_line(error)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise PayloadError("no 'results' mapping in the YAML")
    file_method = METHODS.get(str(data.get("benchmark_name")))
    snapshot = Snapshot()
    for model, entry in data["results"].items():
        if not isinstance(entry, dict):
            snapshot.notes.append(f"{model}: not a mapping, skipped")
            continue
        method = METHODS.get(str(entry.get("benchmark_name")), file_method)
        released = _date(entry.get("release_date"))
        for scaffold, metrics, several in _runs(entry):
            key = f"{model}/{scaffold}" if several else str(model)
            attributes: dict[str, AttrValue] = {}
            if method:
                attributes["method"] = method
            if scaffold:
                attributes["scaffold"] = scaffold
            for field, benchmark in METRICS.items():
                _metric(snapshot, benchmark, key, str(model), metrics.get(field), released,
                        attributes)
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError("no horizon estimates found")
    return snapshot


def _runs(entry: dict[str, Any]) -> list[tuple[str | None, dict[str, Any], bool]]:
    """(scaffold, metrics, whether the model has several) for each run of a model."""
    agents = entry.get("agents")
    if isinstance(agents, dict):
        runs = [(None if name in (None, "null") else str(name), metrics)
                for name, metrics in agents.items() if isinstance(metrics, dict)]
        return [(name, metrics, len(runs) > 1) for name, metrics in runs]
    metrics = entry.get("metrics")
    if not isinstance(metrics, dict):
        return []
    # The first scaffold listed is the model's main one; the others are task-family helpers.
    scaffolds = [str(s) for s in entry.get("scaffolds") or [] if s not in (None, "null")]
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
        ci_low=as_float(raw.get("ci_low")), ci_high=as_float(raw.get("ci_high")),
        attributes=dict(attributes),
    ))


def _date(raw: Any) -> str | None:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip()[:10]).isoformat()
        except ValueError:
            return None
    return None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
