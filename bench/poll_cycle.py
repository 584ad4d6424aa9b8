"""One daemon poll cycle on the 4.2 MB SWE-bench payload with 10,000 registered claims.

    .venv/bin/python bench/poll_cycle.py [--claims 10000] [--runs 9] [--fixtures ../shared/fixtures]

Prints medians (DESIGN section 10), with the best run beside them:
- the floor: the loopback fetch, json.loads, sha256, zlib level 1 and one executemany of
  its rows into SQLite;
- a steady-state poll of a new payload over loopback HTTP (fetch, parse, store, evaluate
  every claim), and its ratio to the floor (target: within 1.25x). Each run polls a fresh
  copy of one prepared store whose index is kept, as the daemon keeps it, and is measured
  beside one run of the floor, in alternating order, so that both see the same machine and
  the same process. That floor is slower than the first one, run in a lean process: a heap
  that holds the stores' claims and indexes, as the daemon's does, makes json.loads slower
  (measured: the first floor again after the trials is as slow as the floor beside them);
- the same for a new payload with the same rows (the daemon's usual poll);
- an unchanged re-poll answered 304, and one with the same bytes (target: under 20 ms CPU);
- parsing alone against json.loads of the same bytes (target: under 2x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAYLOAD = "leaderboards.2025-12-10.json"
BENCHMARKS = ["swe-bench-verified", "swe-bench-lite", "swe-bench-full", "swe-bench-bash-only",
              "swe-bench-multimodal"]


def timed(action: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run, with the cycle collector paused as a poll
    pauses it, so that floor and poll are measured alike."""
    gc.collect()
    gc.disable()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        gc.enable()


def best_of(runs: int, action: Callable[[], Any]) -> tuple[float, float]:
    return min(timed(action) for _ in range(runs))


def floor(url: str, fetch: Callable[[str], bytes], folder: Path) -> Callable[[], None]:
    """The poll's unavoidable steps, one after another: the loopback fetch, json.loads,
    sha256, zlib level 1, and one executemany of the rows into a new SQLite file."""
    def run() -> None:
        body = fetch(url)
        path = folder / f"floor-{time.perf_counter_ns()}.db"
        data = json.loads(body)
        hashlib.sha256(body).hexdigest()
        zlib.compress(body, 1)
        rows = [(b["name"], r["folder"], r.get("name"), r.get("resolved"), r.get("date"))
                for b in data["leaderboards"] for r in b["results"]]
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE rows (board, folder, name, resolved, date)")
        conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?)", rows)
        conn.commit()
        conn.close()

    return run


class Figures:
    """Runs of the floor and of a poll, side by side."""

    def __init__(self) -> None:
        self.floor: list[float] = []
        self.poll: list[float] = []
        self.cpu: list[float] = []
        self.moved: set[int] = set()

    def line(self, what: str) -> str:
        poll, base = statistics.median(self.poll), statistics.median(self.floor)
        moved = "/".join(str(n) for n in sorted(self.moved))
        return (f"{what.format(moved=moved)}: {poll * 1000:.0f} ms wall, "
                f"{statistics.median(self.cpu) * 1000:.0f} ms CPU = {poll / base:.2f}x the floor "
                f"(medians of {len(self.poll)} runs, floor {base * 1000:.1f} ms beside them; "
                f"best runs {min(self.poll) * 1000:.0f} ms = "
                f"{min(self.poll) / min(self.floor):.2f}x)")

def claims(count: int) -> list[dict[str, Any]]:
    """Claims as people write them: mostly about the future, so that they stay open and every
    poll evaluates them; a few low thresholds cross at once."""
    rng = random.Random(7)
    records = []
    for i in range(count):
        benchmark = rng.choice(BENCHMARKS)
        op = rng.choice([">=", ">=", ">", "<"])
        threshold = round(rng.uniform(60, 99.9), 1)
        year = rng.choice([2026, 2027, 2028, 2029, 2030])
        period = rng.choice([f"{year}", f"{year}-H2", f"{year}-Q4", f"{year}-12-31"])
        where = rng.choice(["", "", " where checked", " where pass@1 and open-source",
                            ' where model ~ "claude"'])
        dated = rng.choice(["", "", " dated by first-seen"])
        records.append({"id": f"bench-{i}",
                        "claim": f"{benchmark} {op} {threshold}% by {period}{dated}{where}"})
    return records


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}/{PAYLOAD}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    args = parser.parse_args()
    folder = args.fixtures / "swe-bench"
    body = (folder / PAYLOAD).read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="resolver-bench-"))
    os.environ["RESOLVER_STATE_DIR"] = str(tmp / "unused")

    from resolver import claims as language
    from resolver import clock, lifecycle, log, poller, register
    from resolver.settings import load
    from sources import swe_bench
    from state.db import DB_NAME, open_db

    log.setup()
    log.logger.disabled = True
    settings = load()
    decode = best_of(5, lambda: json.loads(body))[0]
    parse = best_of(5, lambda: swe_bench.parse(body))[0]
    server, url = serve(folder)
    # Like the daemon: one fetcher (one httpx client, its TLS context built once) for all polls.
    fetcher = poller.make_fetcher(settings)
    fetcher.fetch(url)

    def fetch(address: str) -> bytes:
        got = fetcher.fetch(address).body
        assert got is not None
        return got

    base = floor(url, fetch, tmp)
    alone = [timed(base)[0] for _ in range(args.runs)]
    print(f"payload {PAYLOAD}: {len(body) / 1e6:.1f} MB")
    print(f"floor (loopback fetch + json.loads + sha256 + zlib level 1 + executemany into "
          f"SQLite): {statistics.median(alone) * 1000:.1f} ms (median of {args.runs} runs; "
          f"best {min(alone) * 1000:.1f} ms)")
    print(f"parse alone: {parse * 1000:.1f} ms = {parse / decode:.2f}x json.loads "
          f"({decode * 1000:.1f} ms)")
    try:
        source = settings.resolved_sources()["swe-bench"].model_copy(update={"url": url})
        previous = folder / "leaderboards.2025-11-18.json"
        now = dt.datetime.now(dt.UTC)

        def prepared(name: str, *, warm: bool = True) -> Any:
            """A store with the claims registered and, when ``warm``, evaluated on the previous
            payload for ten days, so that the measured poll is a steady-state update."""
            db = open_db(tmp / name)
            register.save(db, [register.Registration(register.build(settings, e), "")
                               for e in claims(args.claims)])
            if warm:
                for days in (10, 9):
                    at = clock.format_instant(now - dt.timedelta(days=days))
                    poller.poll(db, settings, source, from_file=previous, at=at)
                lifecycle.evaluate_now(db, sources=settings.kinds, retired=settings.retired,
                                       at=clock.format_instant(now - dt.timedelta(days=5)))
            return db

        def events(db: Any) -> int:
            return int(db.execute("SELECT count(*) FROM events").fetchone()[0])

        def side_by_side(name: str, origin: Path, poll: Callable[[Any], Any], *,
                         cold: bool = False) -> Figures:
            """``poll`` on ``args.runs`` fresh copies of the store in ``origin``, each beside
            one run of the floor (in turns, first one then the other)."""
            figures = Figures()
            for n in range(args.runs):
                copy = tmp / f"{name}-{n}"
                copy.mkdir()
                shutil.copy(origin / DB_NAME, copy / DB_NAME)
                db = open_db(copy)
                # As the daemon holds it: the index kept from the store's last evaluation.
                lifecycle.evaluate_now(db, sources=settings.kinds, retired=settings.retired)
                if cold:
                    language.parse_cached.cache_clear()
                before = events(db)

                def polled(db: Any = db) -> None:
                    wall, cpu = timed(lambda: poll(db))
                    figures.poll.append(wall)
                    figures.cpu.append(cpu)

                def floored() -> None:
                    figures.floor.append(timed(base)[0])

                for step in (polled, floored) if n % 2 else (floored, polled):
                    step()
                figures.moved.add(events(db) - before)
                db.conn.close()
            return figures

        steady = prepared("steady")
        pending = steady.execute("SELECT count(*) FROM predictions WHERE status IN"
                                 " ('open', 'provisional')").fetchone()[0]
        steady.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        steady.conn.close()
        figures = side_by_side("steady", tmp / "steady",
                               lambda db: poller.poll(db, settings, source, fetcher=fetcher))
        print(figures.line(f"poll of the new payload, {pending} open claims evaluated, "
                           "{moved} moved (fetch, parse, store, evaluate)"))
        # The daemon's usual poll: a new payload (the same rows, published again) that
        # moves no claim, on a store that already took in the last one.
        again = tmp / "again"
        again.mkdir()
        (again / PAYLOAD).write_bytes(json.dumps(json.loads(body), indent=1).encode())
        republished, again_url = serve(again)
        try:
            db = prepared("republished", warm=True)
            poller.poll(db, settings, source, fetcher=fetcher)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.conn.close()
            other = source.model_copy(update={"url": again_url})
            figures = side_by_side("again", tmp / "republished",
                                   lambda db: poller.poll(db, settings, other, fetcher=fetcher))
            print(figures.line("poll of a new payload with the same rows, {moved} moved"))
        finally:
            republished.terminate()
            republished.wait()
        figures = side_by_side("cold", tmp / "steady", cold=True,
                               poll=lambda db: poller.poll(db, settings, source, fetcher=fetcher))
        print(figures.line("the same in a fresh process (claims parsed first)"))
        db = prepared("first", warm=False)
        before = events(db)
        wall, cpu = timed(lambda: poller.poll(db, settings, source, fetcher=fetcher))
        print(f"first poll ever, {events(db) - before} of {args.claims} claims move at once "
              f"(write-bound): {wall * 1000:.0f} ms wall = "
              f"{wall / statistics.median(alone):.2f}x the floor")

        db = prepared("unchanged")
        poller.poll(db, settings, source, fetcher=fetcher)
        wall, cpu = best_of(5, lambda: poller.poll(db, settings, source, fetcher=fetcher))
        print(f"unchanged re-poll (HTTP 304): {wall * 1000:.1f} ms wall, "
              f"{cpu * 1000:.1f} ms CPU")
        copy = tmp / "same.json"
        copy.write_bytes(body)
        wall, cpu = best_of(5, lambda: poller.poll(db, settings, source, from_file=copy))
        print(f"unchanged re-poll (same sha256, file): {wall * 1000:.1f} ms wall, "
              f"{cpu * 1000:.1f} ms CPU")
    finally:
        fetcher.close()
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)  # the stores and their copies (~250 MB)


if __name__ == "__main__":
    main()
