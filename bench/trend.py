"""Trend and projections at scale (DESIGN section 12, issue 11):

- `resolver trend` on a benchmark with 10,000 rows (target: under 0.5 s), in-process and as
  a whole process;
- projections of 10,000 open claims as the digest needs them, the bootstrap shared per
  frontier (target: under 5 s in total).

    .venv/bin/python bench/trend.py [--rows 10000] [--claims 10000]

The store is built directly in SQL (one source, one benchmark whose values rise along a
logistic with noise, rows with attributes); the claims go through the normal registration.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCHMARK = "swe-bench-verified"
AT = "2026-03-01T00:00:00Z"
ATTRIBUTES = [{"checked": True, "pass@1": True}, {"checked": False, "pass@1": True},
              {"checked": True, "open-source": True}, {}]
FILTERS = ["", " where checked", " where pass@1", " where checked and pass@1",
           " where open-source", " dated by first-seen", " dated by first-seen where checked"]
WINDOWS = ["2026-06-30", "2026-H2", "2026-12-31", "2027", "2027-Q2", "2028"]
GROUP = """
import sys
import click
from resolver.cli import _Context, _Group
from resolver.cli_trend import scores, trend

@click.group(cls=_Group)
@click.pass_context
def resolver(ctx):
    ctx.obj = _Context(verbose=False)

resolver.add_command(trend)
resolver.add_command(scores)
resolver(sys.argv[1:], prog_name="resolver")
"""


def build_store(rows: int) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="resolver-trend-"))
    os.environ["RESOLVER_STATE_DIR"] = str(tmp)
    os.environ["RESOLVER_HTTP_PORT"] = "0"
    from state.db import open_db, write

    db = open_db(tmp)
    rng = random.Random(11)
    first = 738_000  # 2021-07-28 as an ordinal day; rows span four and a half years
    with write(db):
        db.execute("INSERT INTO payloads VALUES ('x', 1, 1, x'00', ?)", [AT])
        db.execute("INSERT INTO fetches (id, source, at, recorded_at, status, url, sha256)"
                   " VALUES (1, 'swe-bench', ?, ?, 'ok', 'bench', 'x')", [AT, AT])
        encoded = [json.dumps(a, sort_keys=True) for a in ATTRIBUTES]
        db.conn.executemany(
            "INSERT INTO observations (id, source, benchmark, key, first_seen, version_id)"
            " VALUES (?, 'swe-bench', ?, ?, ?, ?)",
            [(i, BENCHMARK, f"row{i}", AT, i) for i in range(1, rows + 1)])
        values = []
        for i in range(1, rows + 1):
            day = first + rng.randrange(1640)
            trend = 1 / (1 + math.exp(-(day - first - 1300) / 300))
            value = round(min(99.9, max(0.1, 100 * trend * rng.uniform(0.3, 1.0))), 2)
            date = _date(day)
            seen = f"{_date(min(day + rng.randrange(60), first + 1640))}T12:00:00Z"
            values.append((i, i, f"agent {i}", value, date, encoded[i % 4], seen, AT))
        db.conn.executemany(
            "INSERT INTO versions (id, observation_id, n, subject, value, result_date,"
            " attributes, first_seen, last_seen, fetch_id) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, 1)",
            values)
    db.conn.close()
    return tmp


def _date(ordinal: int) -> str:
    import datetime as dt

    return dt.date.fromordinal(ordinal).isoformat()


def register_claims(count: int) -> None:
    from resolver import register
    from resolver.settings import load
    from state.db import open_db

    settings = load()
    db = open_db(settings.state_dir)
    rng = random.Random(5)
    records = [register.Registration(register.build(settings, {
        "id": f"c{i}",
        "claim": f"{BENCHMARK} {rng.choice(['>=', '<'])} {rng.randint(93, 99)}% by "
                 f"{rng.choice(WINDOWS)}{rng.choice(FILTERS)}"}), "")
        for i in range(count)]
    register.save(db, records, sources=settings.kinds)
    db.conn.close()


def trend_in_process(runs: int = 5) -> tuple[float, dict[str, object]]:
    from click.testing import CliRunner

    namespace: dict[str, object] = {}
    exec(GROUP.replace("resolver(sys.argv[1:], prog_name=\"resolver\")", ""), namespace)
    group = namespace["resolver"]
    best, document = math.inf, {}
    for _ in range(runs):
        began = time.perf_counter()
        result = CliRunner().invoke(group, ["trend", BENCHMARK, "--json"])  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - began)
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
    return best, document


def trend_process(runs: int = 5) -> float:
    best = math.inf
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", GROUP, "trend", BENCHMARK], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - began)
    return best


def projections(runs: int = 3) -> tuple[float, int, int, int]:
    """Every open claim's projection, as the digest's upcoming deadlines would ask: views and
    predictions loaded, claims parsed, frontiers fitted and bootstrapped once each."""
    from resolver.claims import parse_cached
    from resolver.settings import load
    from resolver.sota import Views
    from resolver.trend import Series, Trends
    from state import predictions as store
    from state.db import open_db

    settings = load()
    best, projected, frontiers, claims = math.inf, 0, 0, 0
    for _ in range(runs):
        db = open_db(settings.state_dir)
        began = time.perf_counter()
        shared = Trends(Views(db, AT))
        found = []
        open_ = [p for p in store.all_(db, status="open") if not p.manual]
        for p in open_:
            found.append(shared.projection(parse_cached(p.claim, settings.kinds), p.threshold))
        best = min(best, time.perf_counter() - began)
        projected = sum(1 for f in found if f is not None)
        claims = len(open_)
        frontiers = len({Series.of(parse_cached(p.claim, settings.kinds)) for p in open_})
        db.conn.close()
    return best, claims, projected, frontiers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=10_000)
    args = parser.parse_args()
    build_store(args.rows)
    seconds, document = trend_in_process()
    print(f"trend {BENCHMARK} on {args.rows:,} rows ({document['n']} frontier rows fitted, "
          f"no claims), in-process: {seconds * 1000:.0f} ms (target: under 500 ms)")
    print(f"  as a whole process (python -c, imports included): "
          f"{trend_process() * 1000:.0f} ms")
    began = time.perf_counter()
    register_claims(args.claims)
    print(f"claims: {args.claims:,} registered in {time.perf_counter() - began:.1f} s")
    seconds, claims, projected, frontiers = projections()
    print(f"projections of {claims:,} open claims on {frontiers} frontiers ({projected:,} "
          f"projected, 2,000 refits per frontier): {seconds:.2f} s (target: under 5 s)")
    seconds, document = trend_in_process(runs=3)
    print(f"trend {BENCHMARK} with its {len(document['claims']):,} open claims (projection and "
          f"pace each), in-process: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
