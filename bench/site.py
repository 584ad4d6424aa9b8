"""``resolver site`` of 10,000 predictions (DESIGN section 10: under 10 s), on the SWE-bench
history with claims as people write them (round thresholds, period deadlines).

    .venv/bin/python bench/site.py [--claims 10000] [--fixtures ../shared/fixtures]

Prints the time to build the site's content, to render and write every page (each distinct
chart once), a first ``site.write`` (which adds the settled predictions' evidence bundles,
~50 ms each: ``resolver.export`` compresses the 4 MB payloads again for each), and a rewrite
when nothing changed (what ``resolver site`` and the daemon pay once bundles exist).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCHMARKS = ["swe-bench-verified", "swe-bench-lite", "swe-bench-full", "swe-bench-bash-only",
              "swe-bench-multimodal"]
HISTORY = [("leaderboards.2025-05-07.json", "2025-05-07T09:39:00Z"),
           ("leaderboards.2025-11-18.json", "2025-11-18T21:53:00Z"),
           ("leaderboards.2025-12-10.json", "2025-12-11T04:08:00Z")]


def claims(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    records = []
    for i in range(count):
        benchmark = rng.choice(BENCHMARKS)
        op = rng.choice([">=", ">=", ">", "<"])
        threshold = rng.choice([60, 65, 70, 75, 80, 85, 90, 95, 99])
        year = rng.choice([2026, 2027, 2028])
        period = rng.choice([f"{year}", f"{year}-H2", f"{year}-Q4"])
        records.append({"id": f"c{i:05d}", "claim": f"{benchmark} {op} {threshold}% by {period}",
                        "title": f"Claim {i}", "author": f"forecaster {i % 50}",
                        "probability": round(rng.uniform(0.05, 0.95), 2)})
    return records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="resolver-site-bench-"))
    os.environ["RESOLVER_STATE_DIR"] = str(tmp / "state")

    from resolver import log, poller, register, site
    from resolver.settings import load
    from state.db import open_db

    log.setup()
    log.logger.disabled = True
    settings = load()
    db = open_db(settings.state_dir)
    register.save(db, [register.Registration(register.build(settings, e), "")
                       for e in claims(args.claims)])
    source = settings.resolved_sources()["swe-bench"]
    for name, at in HISTORY:
        poller.poll(db, settings, source, from_file=args.fixtures / "swe-bench" / name, at=at)
    now = "2025-12-12T00:00:00Z"
    start = time.perf_counter()
    built = site.content(db, settings, now=now)
    content = time.perf_counter() - start
    start = time.perf_counter()
    pages = site.Pages(built)
    count = 0
    for path, data in pages.files():
        count += site._put(tmp / "pages" / path, data)
    render = time.perf_counter() - start
    print(f"{args.claims} predictions, {len(built.benchmarks)} benchmark pages, "
          f"{len(built.charts)} distinct charts")
    print(f"content from the store: {content:.2f} s")
    print(f"render and write {count} pages and mirrors: {render:.2f} s")
    start = time.perf_counter()
    written = site.write(db, settings, tmp / "site", now=now)
    bundles = sum(1 for item in built.predictions if item["status"] != "open")
    print(f"first site.write (content, pages, the {bundles} settled predictions' bundles, "
          f"evidence), {written} files: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    again = site.write(db, settings, tmp / "site", now=now)
    print(f"rewrite with nothing changed ({again} files): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
