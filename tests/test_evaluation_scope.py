"""Evaluating only the claims a poll can move gives exactly the decisions of evaluating all."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from resolver import clock, lifecycle, poller, register
from resolver.settings import load
from state.db import open_db
from tests.conftest import SWE_BENCH_HISTORY

BENCHMARKS = ["swe-bench-verified", "swe-bench-lite", "swe-bench-bash-only", "swe-bench-full"]


def random_claims(count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        op = rng.choice([">=", ">", "<=", "<"])
        threshold = rng.choice([40, 55, 60, 65, 70, 75, 75.2, 78.8, 79.2, 85])
        windows = ["2025-03", "2025-06-30", "2025-H2", "2025", "2026-Q1"]
        if rng.random() < 0.15:
            baseline = rng.choice(["2025-03", "2025-Q2"])
            threshold_text = f"{rng.choice([1, 1.1, 1.2])}x sota@{baseline}"
            windows = windows[1:]  # a baseline never ends after its claim's window
        else:
            threshold_text = f"{threshold}%"
        first = rng.choice(windows)
        window = (f"by {first}" if rng.random() < 0.8
                  else f"between 2025-01 and {first}")
        dated = rng.choice(["", " dated by first-seen"])
        where = rng.choice(["", " where checked", " where pass@1", ' where model ~ "claude"'])
        entries.append({"id": f"c{i}", "claim": f"{rng.choice(BENCHMARKS)} {op} "
                        f"{threshold_text} {window}{dated}{where}",
                        "late_days": str(rng.choice([0, 5, 30]))})
    return entries


def replay(state: Path, swe_bench: Path, entries: list[dict[str, str]]) -> list[tuple[object, ...]]:
    settings = load()
    db = open_db(state)
    records = [register.Registration(register.build(
        settings, {**e, "late_days": int(e["late_days"])}), "") for e in entries]
    register.save(db, records)
    source = settings.resolved_sources()["swe-bench"]
    for name, at in SWE_BENCH_HISTORY:
        poller.poll(db, settings, source, from_file=swe_bench / name, at=at)
        # the same payload again ten minutes later: an unchanged poll
        poller.poll(db, settings, source, from_file=swe_bench / name,
                    at=clock.add_hours(at, 1 / 6))
    lifecycle.evaluate_now(db, sources=settings.kinds, retired=settings.retired,
                           at="2026-12-31T00:00:00Z")
    return db.execute("SELECT prediction_id, seq, kind, from_status, to_status, outcome, at,"
                      " reason, evidence FROM events ORDER BY prediction_id, seq").fetchall()


@pytest.mark.parametrize("seed", [1, 2])
def test_scoped_evaluation_decides_like_full_evaluation(
    state_dir: Path, swe_bench: Path, monkeypatch: pytest.MonkeyPatch, seed: int,
) -> None:
    entries = random_claims(300, seed)
    scoped = replay(state_dir / "scoped", swe_bench, entries)
    monkeypatch.setattr(lifecycle.Scope, "after_poll",
                        classmethod(lambda cls, source, *, changed: cls.everything()))
    full = replay(state_dir / "full", swe_bench, entries)
    assert len(scoped) > 300  # the claims do move
    assert scoped == full
