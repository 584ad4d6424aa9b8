"""Whole-process timings, best of several runs:

    .venv/bin/python bench/process.py [--fixtures ../shared/fixtures]

- `resolver --help` (target: under 0.1 s; commands import what they use);
- `resolver poll swe-bench` of the 4.2 MB payload over loopback HTTP, first and unchanged,
  beside the 0.18 s a peer tool (urlwatch with a jq filter) takes to check it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.poll_cycle import PAYLOAD, serve  # noqa: E402

RESOLVER = [sys.executable, "-m", "resolver"]


def timed(command: list[str], env: dict[str, str], *, runs: int = 5,
          setup: object = None) -> float:
    best = float("inf")
    for _ in range(runs):
        if callable(setup):
            setup()
        began = time.perf_counter()
        subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="resolver-bench-"))
    env = {**os.environ, "RESOLVER_STATE_DIR": str(state / "state")}
    print(f"resolver --help: {timed([*RESOLVER, '--help'], env) * 1000:.0f} ms")
    server, url = serve(args.fixtures / "swe-bench")
    try:
        env["RESOLVER_SOURCES__SWE_BENCH__URL"] = url
        first = timed([*RESOLVER, "poll", "swe-bench"], env,
                      setup=lambda: shutil.rmtree(state / "state", ignore_errors=True))
        print(f"resolver poll swe-bench ({PAYLOAD}, new store): {first * 1000:.0f} ms "
              "(urlwatch + jq: 180 ms)")
        unchanged = timed([*RESOLVER, "poll", "swe-bench"], env)
        print(f"resolver poll swe-bench (unchanged, HTTP 304): {unchanged * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
