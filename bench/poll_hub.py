"""A daemon poll of Epoch's whole hub zip (2026-04-29, 50 members) with 10,000 registered claims
across hub benchmarks, against its in-process floor: reading every member with Python's csv
module and one executemany of the rows into SQLite. Prints figures; asserts nothing.

    .venv/bin/python bench/poll_hub.py [--claims 10000]
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import os
import random
import sqlite3
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HUB = ROOT.parent / "shared" / "fixtures" / "epoch" / "hub"
PREVIOUS = ("benchmark_data.2026-04-19.zip", "2026-04-19T23:39:49Z")
CURRENT = ("benchmark_data.2026-04-29.zip", "2026-04-30T03:50:41Z")


def best_of(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return min(times)


def floor(body: bytes, folder: Path) -> float:
    def run() -> None:
        rows = []
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".csv") and "additional" not in info.filename:
                    text = io.TextIOWrapper(archive.open(info), encoding="utf-8", newline="")
                    rows.extend((info.filename, *row[:4]) for row in csv.reader(text))
        path = folder / "floor.db"
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE rows (member, a, b, c, d)")
        conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?)",
                         [r + ("",) * (5 - len(r)) for r in rows])
        conn.commit()
        conn.close()

    return best_of(5, run)


def claims(db: object, hub: list[object], count: int) -> list[dict[str, str]]:
    """Claims as people write them: above today's best (so that they stay open and every poll
    evaluates them), a few of them within reach."""
    from state.rows import live_counts

    best = {b: found.value for b, (_, found) in live_counts(db, "epoch-hub").items()  # type: ignore[arg-type]
            if found is not None}
    rng = random.Random(11)
    entries = []
    for i in range(count):
        benchmark = rng.choice(hub)
        now = best.get(benchmark.id, 10.0)  # type: ignore[attr-defined]
        target = now * rng.uniform(1.0, 1.5)
        value = (f"{min(target, 100):.1f}%" if benchmark.unit == "%"  # type: ignore[attr-defined]
                 else f"{target:.1f}")
        entries.append({"id": f"c{i}", "claim": f"{benchmark.id} >= {value} by "  # type: ignore[attr-defined]
                        f"{rng.choice(['2026-12-31', '2027', '2028-H1'])}"})
    return entries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=10_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="resolver-hub-"))
    os.environ["RESOLVER_STATE_DIR"] = str(tmp / "state")
    os.environ["RESOLVER_HTTP_PORT"] = "0"
    from resolver import log, poller, register
    from resolver.settings import load
    from state.db import open_db

    log.setup(level=40)
    settings = load()
    catalog = settings.kinds
    hub = [b for b in catalog.benchmarks("epoch-hub").values()
           if catalog.primary(b.id) == "epoch-hub" and b.unit != "min"]
    body = (HUB / CURRENT[0]).read_bytes()
    print(f"payload {CURRENT[0]}: {len(body) / 1024:.0f} kB, {len(hub)} hub benchmarks, "
          f"{args.claims:,} claims")
    lowest = floor(body, tmp)
    print(f"floor (csv over every member + executemany into SQLite): {lowest * 1000:.1f} ms")
    results = []
    for run in range(3):
        db = open_db(tmp / f"run-{run}")
        source = settings.resolved_sources()["epoch-hub"]
        poller.poll(db, settings, source, from_file=HUB / PREVIOUS[0], at=PREVIOUS[1])
        register.save(db, [register.Registration(register.build(settings, e), "")
                           for e in claims(db, hub, args.claims)], sources=settings.kinds)
        moved_before = db.execute("SELECT count(*) FROM events").fetchone()[0]
        gc.collect()
        began = time.perf_counter()
        outcome = poller.poll(db, settings, source, from_file=HUB / CURRENT[0], at=CURRENT[1])
        took = time.perf_counter() - began
        moved = db.execute("SELECT count(*) FROM events").fetchone()[0] - moved_before
        results.append((took, outcome.poll.rows, moved))
        db.conn.close()
    took, rows, moved = min(results)
    print(f"daemon poll of the new zip ({rows:,} rows; {moved} events): {took * 1000:.0f} ms "
          f"= {took / lowest:.2f}x the floor (target 3x)")


if __name__ == "__main__":
    main()
