"""``resolver verify`` of one prediction whose source has 100 archived polls of the 4.2 MB
SWE-bench payload (DESIGN section 10: target under 10 s).

    .venv/bin/python bench/verify.py [--polls 100] [--fixtures ../shared/fixtures]

Builds a state dir with one prediction on swe-bench, then ingests ``--polls`` variants of
``leaderboards.2025-12-10.json`` (a few rows' scores differ in each, so every poll is a
distinct payload that is parsed, stored and evaluated), and times re-deriving that one
prediction from the archive: the chain check, a scratch in-memory store, every poll replayed
through the current parser and evaluator, the comparison. Prints the time of the in-process
re-derivation and of ``resolver verify ID`` as a whole process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAYLOAD = "leaderboards.2025-12-10.json"
CLAIM = "swe-bench-verified >= 75% by 2026-12-31"  # crosses, then resolves


def variants(body: bytes, count: int) -> list[bytes]:
    """``count`` distinct payloads: in the n-th, the scores of three rows move a little."""
    data = json.loads(body)
    rows = [r for board in data["leaderboards"] for r in board["results"]
            if isinstance(r.get("resolved"), int | float)]
    out = []
    for n in range(count):
        for step, row in enumerate(rows[n * 3 % len(rows):][:3]):
            row["resolved"] = round(float(row["resolved"]) + 0.01 * (step + 1), 2) % 100
        out.append(json.dumps(data).encode())
    return out


def build(state_dir: Path, payloads: list[bytes], scratch: Path) -> None:
    from resolver import poller, register, settings
    from state.db import open_db

    os.environ["RESOLVER_STATE_DIR"] = str(state_dir)
    config = settings.load()
    db = open_db(state_dir)
    prediction = register.build(config, {"id": "bench", "claim": CLAIM})
    register.save(db, [register.Registration(prediction, "")], sources=config.kinds)
    source = config.resolved_sources()["swe-bench"]
    for n, body in enumerate(payloads):
        path = scratch / "poll.json"
        path.write_bytes(body)
        at = f"2026-01-{1 + n // 24:02d}T{n % 24:02d}:00:00Z"
        poller.poll(db, config, source, at=at, from_file=path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--polls", type=int, default=100)
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    args = parser.parse_args()
    body = (args.fixtures / "swe-bench" / PAYLOAD).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        state_dir = folder / "state"
        started = time.perf_counter()
        build(state_dir, variants(body, args.polls), folder)
        print(f"setup: {args.polls} polls of {len(body) / 1e6:.1f} MB ingested in "
              f"{time.perf_counter() - started:.1f} s")

        from resolver import settings
        from resolver.verify import verify_store
        from state.db import open_db

        db = open_db(state_dir)
        distinct = db.execute("SELECT count(*) FROM payloads").fetchone()[0]
        started = time.perf_counter()
        report = verify_store(db, settings.load(), ("bench",))
        elapsed = time.perf_counter() - started
        assert report.ok, report.lines()
        print(f"verify of one prediction, {args.polls} polls ({distinct} distinct payloads), "
              f"in-process: {elapsed:.2f} s (target: under 10 s)")
        print("  " + "\n  ".join(report.lines()))
        script = ("import sys; from resolver.cli import cli; from resolver.cli_verify import "
                  "verify; cli.add_command(verify); sys.argv = ['resolver', 'verify', 'bench'];"
                  " cli(prog_name='resolver')")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                       env={**os.environ, "RESOLVER_STATE_DIR": str(state_dir)})
        print(f"resolver verify bench, as a whole process: "
              f"{time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
