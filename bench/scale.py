"""Evaluation at scale (DESIGN section 10): N observations and M claims loaded, then one
evaluation pass over every claim. Loading is reported separately.

    .venv/bin/python bench/scale.py [--rows 1000000] [--claims 100000]

The store is built directly in SQL (one source, six benchmarks, rows with attributes), the
claims through the normal registration code.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCHMARKS = ["swe-bench-verified", "swe-bench-lite", "swe-bench-full", "swe-bench-bash-only",
              "swe-bench-multimodal", "swe-bench-multilingual"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=100_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="resolver-scale-"))
    os.environ["RESOLVER_STATE_DIR"] = str(tmp)

    from resolver import claims, index, lifecycle, register, sota
    from resolver.settings import load
    from state.db import open_db, write

    settings = load()
    db = open_db(tmp)
    rng = random.Random(3)
    began = time.perf_counter()
    at = "2026-01-01T00:00:00Z"
    with write(db):
        db.execute("INSERT INTO payloads VALUES ('x', 1, 1, x'00', ?)", [at])
        db.execute("INSERT INTO fetches (id, source, at, recorded_at, status, url, sha256,"
                   " token) VALUES (1, 'swe-bench', ?, ?, 'ok', 'bench', 'x', 'a')", [at, at])
        attributes = [json.dumps(a, sort_keys=True) for a in (
            {"checked": True, "pass@1": True}, {"checked": False, "pass@1": True},
            {"checked": True, "open-source": True}, {})]
        batch = 100_000
        for start in range(0, args.rows, batch):
            ids = range(start + 1, min(start + batch, args.rows) + 1)
            db.conn.executemany(
                "INSERT INTO observations (id, source, benchmark, key, first_seen, version_id)"
                " VALUES (?, 'swe-bench', ?, ?, ?, ?)",
                [(i, BENCHMARKS[i % 6], f"row{i}", at, i) for i in ids])
            db.conn.executemany(
                "INSERT INTO versions (id, observation_id, n, subject, value, result_date,"
                " attributes, first_seen, last_seen, fetch_id) VALUES (?, ?, 1, ?, ?, ?, ?, ?,"
                " ?, 1)",
                [(i, i, f"agent {i}", round(rng.uniform(0, 80), 2),
                  f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                  attributes[i % 4], at, at) for i in ids])
    print(f"store: {args.rows:,} observations written in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    records = []
    for i in range(args.claims):
        period = rng.choice(["2026", "2026-H2", "2027", "2027-Q2", "2028"])
        where = rng.choice(["", " where checked", " where pass@1", " where checked and pass@1"])
        records.append(register.Registration(register.build(settings, {
            "id": f"c{i}", "claim": f"{rng.choice(BENCHMARKS)} >= {rng.randint(81, 99)}% by "
                                    f"{period}{where}"}), ""))
    register.save(db, records)
    print(f"claims: {args.claims:,} registered in {time.perf_counter() - began:.1f} s")

    when = "2026-02-01T00:00:00Z"
    gc.collect()
    with write(db):
        began = time.perf_counter()
        kept = index.kept(db, "swe-bench")
        assert kept is not None
        loaded = time.perf_counter() - began
        view = sota.SourceView(db, "swe-bench", when, kept=True)
        began = time.perf_counter()
        for (sample,) in db.execute("SELECT min(claim) FROM predictions GROUP BY partition"):
            claim = claims.parse_cached(sample, settings.kinds)
            view.best(claim, claim.start, claim.end)
        indexed = time.perf_counter() - began
    print(f"loading {args.rows:,} rows into the index: {loaded:.2f} s; building the "
          f"state-of-the-art index per benchmark and filter set: {indexed:.2f} s "
          f"(together {loaded + indexed:.2f} s; target under 4 s)")
    passes = []
    for _ in range(3):  # nothing moves at ``when``: the same pass each time, best of three
        with write(db):
            evaluator = lifecycle.Evaluator(db, at=when, recorded_at=at, sources=settings.kinds)
            began = time.perf_counter()
            changes = evaluator.run(lifecycle.Scope.everything())
            passes.append(time.perf_counter() - began)
    print(f"one evaluation pass over {args.claims:,} claims with the index: {min(passes):.2f} s"
          f" (best of 3; {len(changes)} changes; target under 1 s)")

    # A small poll: a few rows of one benchmark revised, one retracted, then the daemon's
    # evaluation of the source (the kept index takes in just those changes).
    later = "2026-02-02T00:00:00Z"
    with write(db):
        db.execute("INSERT INTO fetches (id, source, at, recorded_at, status, url, sha256,"
                   " token) VALUES (2, 'swe-bench', ?, ?, 'ok', 'bench', 'x', 'b')",
                   [later, later])
        revised = [6 * k for k in range(1, 6)]  # rows of swe-bench-verified
        db.conn.executemany(
            "INSERT INTO versions (observation_id, n, subject, value, result_date, attributes,"
            " first_seen, last_seen, fetch_id) VALUES (?, 2, ?, ?, '2025-06-01', ?, ?, ?, 2)",
            [(oid, f"agent {oid}", 78.5 + k / 10, attributes[0], later, later)
             for k, oid in enumerate(revised)])
        db.execute("UPDATE observations SET version_id = (SELECT max(id) FROM versions v"
                   " WHERE v.observation_id = observations.id) WHERE id IN (SELECT"
                   " observation_id FROM versions WHERE fetch_id = 2)")
        db.execute("INSERT INTO retractions (observation_id, at, fetch_id) VALUES (12, ?, 2)",
                   [later])
        db.execute("UPDATE observations SET retracted_at = ? WHERE id = 12", [later])
        began = time.perf_counter()
        changes = lifecycle.evaluate(db, at=later, recorded_at=later, sources=settings.kinds,
                                     scope=lifecycle.Scope.after_poll("swe-bench",
                                                                      changed=True))
        incremental = time.perf_counter() - began
    print(f"incremental re-evaluation after a small poll (5 rows revised, 1 retracted, at "
          f"{args.rows:,} stored rows): {incremental * 1000:.0f} ms ({len(changes)} changes; "
          "target under 50 ms)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
