"""Whole-process timings, best of several runs (DESIGN section 10):

    .venv/bin/python bench/process.py [--fixtures ../shared/fixtures] [--runs 9]

- `resolver --help` (target: under 0.1 s; commands import what they use);
- `resolver poll swe-bench` of the 4.2 MB payload over loopback HTTP, first (a new store) and
  unchanged (HTTP 304), side by side with urlwatch 2.29 and a jq filter checking the same URL
  (target: at most 1.2x). urlwatch and the jq package are installed by this bench into a
  scratch venv under the system's temp folder (kept between runs, never in the repo, never a
  dependency of resolver); without network the bench says so and prints resolver's figures;
- `resolver predict list` and `resolver show ID` on a store of 10,000 predictions (target:
  under 0.3 s each).

Both tools run with their bytecode cached as an installed package has it: the bench points
``PYTHONPYCACHEPREFIX`` at its own temp folder (nothing is written in the repo) and drops
``PYTHONDONTWRITEBYTECODE``; a warm-up run before each timing fills that cache.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.poll_cycle import PAYLOAD, serve  # noqa: E402

RESOLVER = [sys.executable, "-m", "resolver"]
URLWATCH = "urlwatch==2.29"
SCRATCH = Path(tempfile.gettempdir()) / "resolver-bench-urlwatch"  # the scratch venv
PREDICTIONS = 10_000
BENCHMARKS = ("swe-bench-verified", "swe-bench-lite", "swe-bench-full", "swe-bench-bash-only")


def run(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - began


def best_of(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int,
            setup: Callable[[], None] | None = None) -> dict[str, float]:
    """Best of ``runs`` for each command, the commands taking turns (one warm-up each)."""
    for command, env in commands.values():
        if setup is not None:
            setup()
        run(command, env)
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(runs):
        for name, (command, env) in commands.items():
            if setup is not None:
                setup()
            best[name] = min(best[name], run(command, env))
    return best


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def urlwatch(scratch: Path) -> Path | None:
    """The urlwatch executable of the scratch venv, installed there on first use; None (and
    why, on stdout) when it cannot be installed."""
    executable = scratch / "bin" / "urlwatch"
    if executable.exists():
        return executable
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(scratch)], check=True,
                       capture_output=True)
        subprocess.run([str(scratch / "bin" / "python"), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", URLWATCH, "jq"], check=True,
                       capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as error:
        output = getattr(error, "stderr", b"") or b""
        reason = output.decode(errors="replace").strip().splitlines()[-1:] or [str(error)]
        print(f"urlwatch: could not install {URLWATCH} and jq into a scratch venv "
              f"({reason[0]}); offline? resolver's figures follow without the comparison")
        shutil.rmtree(scratch, ignore_errors=True)
        return None
    return executable


def urlwatch_command(executable: Path, folder: Path, url: str) -> list[str]:
    """urlwatch with one job: the URL, filtered by jq as a user watching it would."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "urls.yaml").write_text(
        f"name: swe-bench\nurl: {url}\nfilter:\n  - jq: '.leaderboards | length'\n")
    return [str(executable), "--urls", str(folder / "urls.yaml"),
            "--config", str(folder / "urlwatch.yaml"), "--cache", str(folder / "cache.db"),
            "--hooks", str(folder / "hooks.py")]


def store_of_predictions(state: Path, fixtures: Path, env: dict[str, str]) -> str:
    """A store of ``PREDICTIONS`` predictions through the registration code, and one poll of
    the recorded payload so that about half of them are provisional; returns one's id."""
    os.environ["RESOLVER_STATE_DIR"] = str(state)
    from resolver import register
    from resolver.settings import load
    from state.db import open_db

    settings = load()
    db = open_db(state)
    rng = random.Random(3)
    registrations = []
    for i in range(PREDICTIONS):
        period = rng.choice(["2025", "2025-Q2", "2026-H2", "2027", "2028"])
        where = rng.choice(["", " where checked"])
        registrations.append(register.Registration(register.build(settings, {
            "id": f"p{i:05d}", "title": f"Prediction {i}", "made": "2025-01-01",
            "claim": f"{rng.choice(BENCHMARKS)} >= {rng.randint(40, 99)}% by {period}{where}",
        }), ""))
    register.save(db, registrations, sources=settings.kinds)
    db.conn.close()
    subprocess.run([*RESOLVER, "poll", "swe-bench", "--from-file",
                    str(fixtures / "swe-bench" / PAYLOAD), "--at", "2025-12-10T12:00:00Z"],
                   env={**env, "RESOLVER_STATE_DIR": str(state)}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return "p00003"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--scratch", type=Path, default=SCRATCH,
                        help="where the scratch venv of urlwatch is kept")
    args = parser.parse_args()
    if not (args.fixtures / "swe-bench" / PAYLOAD).is_file():
        sys.exit(f"{args.fixtures / 'swe-bench' / PAYLOAD}: not found (--fixtures)")
    tmp = Path(tempfile.mkdtemp(prefix="resolver-bench-"))
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env = {**base, "RESOLVER_STATE_DIR": str(tmp / "state")}
    try:
        help_ = best_of({"help": ([*RESOLVER, "--help"], env)}, args.runs)["help"]
        print(f"resolver --help: {ms(help_)} (target < 100 ms)")
        executable = urlwatch(args.scratch)
        server, url = serve(args.fixtures / "swe-bench")
        try:
            env["RESOLVER_SOURCES__SWE_BENCH__URL"] = url
            poll = [*RESOLVER, "poll", "swe-bench"]
            first = best_of({"poll": (poll, env)}, max(3, args.runs // 2),
                            setup=lambda: shutil.rmtree(tmp / "state", ignore_errors=True))
            print(f"resolver poll swe-bench ({PAYLOAD}, new store): {ms(first['poll'])}")
            # A user's store: the seed predictions registered, the payload polled once.
            subprocess.run([*RESOLVER, "predict", "import", "examples/ai-2027.toml"], env=env,
                           check=True, capture_output=True, cwd=ROOT)
            run(poll, env)
            commands = {"resolver": (poll, env)}
            if executable is not None:
                watch = urlwatch_command(executable, tmp / "urlwatch", url)
                run(watch, {**base, "HOME": str(tmp / "urlwatch")})  # primes its cache
                commands["urlwatch"] = (watch, {**base, "HOME": str(tmp / "urlwatch")})
            unchanged = best_of(commands, args.runs)
            line = (f"resolver poll swe-bench (unchanged, HTTP 304; the seed predictions "
                    f"registered): {ms(unchanged['resolver'])}")
            if "urlwatch" in unchanged:
                ratio = unchanged["resolver"] / unchanged["urlwatch"]
                line += (f"; urlwatch 2.29 + jq (unchanged; http.server sends no ETag, so it "
                         f"downloads and filters): {ms(unchanged['urlwatch'])}; ratio "
                         f"{ratio:.2f}x (target <= 1.2x)")
            print(line)
        finally:
            server.terminate()
            server.wait()
        store = tmp / "predictions"
        shown = store_of_predictions(store, args.fixtures, base)
        listed = {**env, "RESOLVER_STATE_DIR": str(store)}
        times = best_of({"list": ([*RESOLVER, "predict", "list"], listed),
                         "show": ([*RESOLVER, "show", shown], listed)}, args.runs)
        print(f"resolver predict list ({PREDICTIONS:,} predictions): {ms(times['list'])}; "
              f"resolver show {shown}: {ms(times['show'])} (target < 300 ms each)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
