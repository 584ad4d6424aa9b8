"""What ``sources.epoch_zip`` knows of each member of Epoch's hub beyond the rule, as data:
the table ``MEMBERS`` (file name -> ``Member``: unit, scale and headline column, and where
the rule does not suffice its benchmark id, attributes, METR's method column, further
metrics, key and subject columns), and the benchmark id rule, whose exceptions are the
table's (``benchmark_id``). A new member is one entry here, never a branch in the reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sources.base import Unit
from sources.kinds import AttrType, Benchmark

SUBJECTS = ("Model version", "Name", "Agent", "Scaffold")  # the first non-blank names the row


@dataclass(frozen=True)
class Member:
    """What the code knows of one member beyond the rule."""

    unit: Unit
    value: str | None = None  # the headline column; None: the rule finds it
    scale: float = 1  # raw x scale: 100 turns a fraction into percent
    benchmark: str | None = None  # the id, where the rule does not give it
    attributes: Mapping[str, str] = field(default_factory=dict)  # attribute -> column, not org
    method: str | None = None  # the column of METR's version (blank or absent: 1.0)
    also: tuple[tuple[str, str], ...] = ()  # (benchmark, column): further metrics of a row
    ci: bool = False  # CI_low / CI_high bound the headline value
    subjects: tuple[str, ...] = SUBJECTS
    # Without an id: each part of the key is the first non-blank of its columns (no #n).
    key: tuple[tuple[str, ...], ...] | None = None

    def benchmarks(self, name: str) -> list[Benchmark]:
        own: dict[str, AttrType] = {"method": str} if self.method else {}
        own.update(dict.fromkeys(self.attributes, str))
        own["org"] = str
        return [Benchmark(benchmark_id(name, self), self.unit, own),
                *(Benchmark(benchmark, self.unit, own) for benchmark, _ in self.also)]


def _fraction(value: str, **more: Any) -> Member:
    return Member("%", value, 100, **more)


def _percent(value: str, **more: Any) -> Member:
    return Member("%", value, **more)


def _points(value: str, **more: Any) -> Member:
    return Member("pts", value, **more)


# Every member of the captured zips (2026-01-20, 2026-04-19, 2026-04-29), with the column the
# rule finds for it (tests check that it still does). Nearly all are fractions, whatever the
# column says (`Win Rate (%)` = 0.099).
MEMBERS: dict[str, Member] = {
    "adversarial_nli_external.csv": _fraction("Score"),
    "aider_polyglot_external.csv": _percent("Percent correct"),
    "apex_agents_external.csv": _fraction("Pass@1 score"),
    "arc_agi_2_external.csv": _fraction("Score"),
    "arc_agi_external.csv": _fraction("Score"),
    "arc_ai2_external.csv": _fraction("Challenge score"),
    "balrog_external.csv": _fraction("Average progress"),
    "bbh_external.csv": _fraction("Average"),
    "bool_q_external.csv": _fraction("Score"),
    "cad_eval_external.csv": _fraction("Overall pass (%)"),
    "chess_puzzles.csv": _fraction("mean_score"),
    "common_sense_qa_2_external.csv": _fraction("Score"),
    "cybench_external.csv": _fraction("Unguided % Solved"),
    "deepresearchbench_external.csv": _fraction("Average score", attributes={"agent": "Agent"}),
    "epoch_capabilities_index.csv": _points("ECI Score", benchmark="eci"),
    "fictionlivebench_external.csv": _fraction("120k token score"),
    "frontiermath.csv": _fraction("mean_score"),
    "frontiermath_tier_4.csv": _fraction("mean_score"),
    "gdpval_external.csv": _fraction("Win + tie rate (%)"),
    "geobench_external.csv": _points("ACW Avg Score"),
    "gpqa_diamond.csv": _fraction("mean_score"),
    "gsm8k_external.csv": _fraction("EM"),
    "gso_external.csv": _fraction("Score OPT@1", attributes={"scaffold": "Scaffold"}),
    "hella_swag_external.csv": _fraction("Overall accuracy"),
    "hle_external.csv": _fraction("Accuracy"),
    "lambada_external.csv": _fraction("Score"),
    "lech_mazur_writing_external.csv": _points("Mean score"),
    "live_bench_external.csv": _percent("Global average"),
    "math_level_5.csv": _fraction("mean_score"),
    "metr_time_horizons_external.csv": Member(
        "min", "Time horizon", benchmark="metr-p50-horizon", method="METR version", ci=True,
        also=(("metr-p80-horizon", "Time Horizon (80%)"),)),
    "mmlu_external.csv": _fraction("EM"),
    "open_book_qa_external.csv": _fraction("Accuracy"),
    # Agent names the run with its step budget ("claude-sonnet-4-5 (100 steps)"); Source says
    # who reported it (the website, or a vendor's announcement).
    "os_world_external.csv": _percent(
        "Score", benchmark="osworld", attributes={"agent": "Agent", "reported-by": "Source"},
        subjects=("Agent", "Model version"), key=(("Agent", "Model version"), ("Source",))),
    "otis_mock_aime_2024_2025.csv": _fraction("mean_score", benchmark="otis-mock-aime"),
    "piqa_external.csv": _fraction("Score"),
    "posttrainbench_external.csv": _fraction("Average (%)", attributes={"scaffold": "Scaffold"}),
    "science_qa_external.csv": _fraction("Score"),
    "simplebench_external.csv": _fraction("Score (AVG@5)"),
    "simpleqa_verified.csv": _fraction("mean_score"),
    "superglue_external.csv": _fraction("Score"),
    "swe_bench_bash.csv": _fraction("% Resolved", benchmark="swe-bench-bash-only"),
    "swe_bench_verified.csv": _fraction("mean_score"),  # Epoch's own runs, out of 484 tasks
    "terminalbench_external.csv": _fraction("Accuracy mean", benchmark="terminal-bench",
                                            attributes={"agent": "Agent"}),
    "the_agent_company_external.csv": _fraction("% Score"),
    "trivia_qa_external.csv": _fraction("EM"),
    "video_mme_external.csv": _fraction("Overall (no subtitles)"),
    "vpct_external.csv": _fraction("Correct"),
    "webdev_arena_external.csv": _points("Arena Score"),
    "weirdml_external.csv": _fraction("Accuracy"),
    "wino_grande_external.csv": _fraction("Accuracy"),
}


def benchmark_id(name: str, member: Member | None = None) -> str:
    """``hle_external.csv`` -> ``hle``, unless the member's entry names its id."""
    if member is not None and member.benchmark:
        return member.benchmark
    return name.removesuffix(".csv").removesuffix("_external").replace("_", "-").lower()
