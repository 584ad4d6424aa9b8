"""Parsing each source kind's largest captured payload, against the bare decode floor.

    .venv/bin/python bench/parse_kinds.py [--fixtures ../shared/fixtures]

Floors: json.loads (SWE-bench), the xlsx reader's raw cell read (OSWorld), the YAML C loader
(METR), csv over every member of the zip (Epoch: four members, and the whole hub of
2026-04-29), feedparser (the feed). Target: under 2x for each kind.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best(action: Callable[[bytes], Any], body: bytes, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action(body)
        times.append(time.perf_counter() - began)
    return min(times)


def epoch_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, name in (("swe_bench_verified.csv", "swe_bench_verified.2026-04-19.csv"),
                             ("swe_bench_bash.csv", "swe_bench_bash.2026-04-19.csv"),
                             ("os_world_external.csv", "os_world_external.2026-04-19.csv"),
                             ("metr_time_horizons_external.csv",
                              "metr_time_horizons_external.2026-04-19.csv")):
            archive.write(folder / name, member)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    args = parser.parse_args()
    fixtures = args.fixtures

    import feedparser
    import yaml
    from python_calamine import CalamineWorkbook

    from sources import epoch_zip as epoch
    from sources import metr_yaml, osworld_xlsx, rss, swe_bench

    def calamine_floor(body: bytes) -> None:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
        for name in workbook.sheet_names:
            workbook.get_sheet_by_name(name).to_python()

    def csv_floor(body: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for info in archive.infolist():
                with archive.open(info) as raw:
                    list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")))

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    cases = [
        ("swe-bench-leaderboards", fixtures / "swe-bench/leaderboards.2025-12-10.json",
         swe_bench.parse, json.loads, "json.loads"),
        ("osworld-xlsx", fixtures / "osworld/osworld_verified_results.2026-07-02.xlsx",
         osworld_xlsx.parse, calamine_floor, "calamine cell read"),
        ("osworld-xlsx (self-reported)", fixtures / "osworld/self_reported_results.2026-04-06.xlsx",
         osworld_xlsx.parse, calamine_floor, "calamine cell read"),
        ("metr-yaml", fixtures / "metr/benchmark_results.2026-01-04.yaml", metr_yaml.parse,
         lambda body: yaml.load(body, Loader=loader), "YAML C loader"),
        ("epoch-zip (4 members)", None, epoch.parse, csv_floor, "csv over the zip"),
        ("epoch-zip (the whole hub)", fixtures / "epoch/hub/benchmark_data.2026-04-29.zip",
         epoch.parse, csv_floor, "csv over the zip"),
        ("rss", ROOT / "tests/data/metr-feed.xml", rss.parse, feedparser.parse, "feedparser"),
    ]
    for kind, path, parse, floor, floor_name in cases:
        body = path.read_bytes() if path else epoch_zip(fixtures / "epoch")
        parsed, bare = best(parse, body), best(floor, body)
        print(f"{kind:30} {len(body) / 1e3:7.0f} kB  parse {parsed * 1000:7.2f} ms  "
              f"{floor_name} {bare * 1000:7.2f} ms  = {parsed / bare:.2f}x")


if __name__ == "__main__":
    main()
