"""The track record (DESIGN section 12): Brier score, log score, calibration and mean pace per
author and overall, over resolved predictions with a probability."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from resolver.scores import Scored, scores
from tests.conftest import SWE_BENCH_HISTORY, Cli, replay
from tests.test_trend import run


def test_scores_by_hand() -> None:
    table = scores([Scored("Alice", 0.3, "no", 0.5), Scored("Alice", 0.8, "yes"),
                    Scored("bob", 1.0, "no", -0.25), Scored("bob", 0.25, "yes", 0.75),
                    Scored(None, 0.05, "no")])
    assert [r.author for r in table.authors] == ["Alice", "bob", None]
    alice, bob, nobody = table.authors
    assert alice.n == 2 and alice.brier == pytest.approx((0.09 + 0.04) / 2)
    assert alice.log_score == pytest.approx((math.log(0.7) + math.log(0.8)) / 2)
    assert alice.mean_pace == 0.5
    # p = 1 that resolved no: the log score clips p to 0.999, the Brier score does not.
    assert bob.brier == pytest.approx((1 + 0.5625) / 2)
    assert bob.log_score == pytest.approx((math.log(0.001) + math.log(0.25)) / 2)
    assert bob.mean_pace == pytest.approx(0.25)
    assert nobody.mean_pace is None
    assert table.all is not None and table.all.n == 5
    assert table.all.brier == pytest.approx((0.09 + 0.04 + 1 + 0.5625 + 0.0025) / 5)
    assert table.all.mean_pace == pytest.approx((0.5 - 0.25 + 0.75) / 3)
    bins = {b["bin"]: b for b in table.to_json()["authors"][1]["calibration"]}
    assert bins == {"0.2-0.3": {"bin": "0.2-0.3", "n": 1, "mean_p": 0.25, "yes_share": 1.0},
                    "0.9-1.0": {"bin": "0.9-1.0", "n": 1, "mean_p": 1.0, "yes_share": 0.0}}
    document = table.to_json()
    assert set(document) == {"authors", "all"}
    assert set(document["authors"][0]) == {"author", "n", "brier", "log_score", "mean_pace",
                                           "calibration"}
    assert set(document["all"]) == {"n", "brier", "log_score", "mean_pace", "calibration"}
    assert scores([]).to_json() == {"authors": [], "all": None}


def test_calibration_bins_of_a_tenth() -> None:
    probabilities = [0.0, 0.1, 0.3, 0.35, 0.7, 0.99, 1.0]
    table = scores([Scored("a", p, "yes" if i % 2 else "no")
                    for i, p in enumerate(probabilities)])
    [record] = table.authors
    found = [(b.low, b.n) for b in record.calibration]
    assert found == [(0.0, 1), (0.1, 1), (0.3, 2), (0.7, 1), (0.9, 2)]
    middle = record.calibration[2]
    assert middle.mean_p == pytest.approx(0.325) and middle.yes_share == 0.5


# Who said what, on the SWE-bench history (best in 2025-07-31's window: 75.2%).
REGISTERED = [  # id, claim, author, probability
    ("alice-85", "swe-bench-verified >= 85% by 2025-07-31", "Alice", 0.3),  # no
    ("alice-below", "swe-bench-verified < 85% by 2025-07-31", "Alice", 0.8),  # yes
    ("alice-70", "swe-bench-verified >= 70% by 2025-07-31", "Alice", 0.9),  # yes
    ("bob-80", "swe-bench-verified >= 80% by 2025-07-31", "Bob", 1.0),  # no
    ("bob-open", "swe-bench-verified >= 99% by 2030-12-31", "Bob", 0.1),  # open: not scored
    ("carol-none", "swe-bench-verified >= 85% by 2025-07-31", "Carol", None),  # no p
]
MANUAL = [  # id, author, probability, decision
    ("bob-manual", "Bob", 0.25, "yes"),
    ("bob-annulled", "Bob", 0.5, "annul"),  # annulled: not scored
]
OUTCOMES = {"alice-85": 0, "alice-below": 1, "alice-70": 1, "bob-80": 0, "bob-manual": 1}


def register(cli: Cli) -> None:
    for prediction_id, claim, author, probability in REGISTERED:
        extra = ["--probability", str(probability)] if probability is not None else []
        cli("predict", "add", claim, "--id", prediction_id, "--author", author, *extra)
    for prediction_id, author, probability, _ in MANUAL:
        cli("predict", "add", "manual", "--id", prediction_id, "--author", author,
            "--probability", str(probability), "--deadline", "2025-06-30", "--criteria",
            "a person checks")


def by_hand(cli: Cli, state_dir: Path) -> dict[str, float | None]:
    """Each scored claim's pace from the rows: base = the best live row dated before the day
    it was made (its registration: no ``made`` field yet), best = the best in its window."""
    from resolver.sota import SourceView
    from state.db import open_db

    view = SourceView(open_db(state_dir), "swe-bench", SWE_BENCH_HISTORY[-1][1])
    live = [(r.latest.result_date, r.latest.value)
            for r in view.rows["swe-bench-verified"] if not r.retracted and r.latest.result_date]

    def f(value: float) -> float:
        return math.log(value / (100 - value))

    paces: dict[str, float | None] = {}
    for prediction_id, claim, _, probability in REGISTERED:
        shown = json.loads(cli("show", prediction_id, "--json").output)
        if probability is None or shown["status"] != "resolved" or "<" in claim:
            continue
        threshold = float(claim.split()[2].rstrip("%"))
        made = shown["registered_at"][:10]
        base = max(v for d, v in live if d < made)
        best = max(v for d, v in live if d < "2025-08-01")
        paces[prediction_id] = ((f(best) - f(base)) / (f(threshold) - f(base))
                                if threshold > base else None)
    return paces


def test_scores_on_a_replay_with_two_authors(cli: Cli, swe_bench: Path,
                                             state_dir: Path) -> None:
    register(cli)
    replay(cli, swe_bench, SWE_BENCH_HISTORY, "swe-bench")
    for prediction_id, _, _, decision in MANUAL:
        cli("resolve", prediction_id, decision, "--note", "checked by hand", "--by", "judge")
    listed = {p["id"]: p for p in json.loads(cli("predict", "list", "--json").output)}
    assert {i: listed[i]["outcome"] for i in OUTCOMES} == {
        i: "yes" if o else "no" for i, o in OUTCOMES.items()}
    assert all(listed[i]["status"] == "resolved" for i in OUTCOMES)
    assert listed["bob-open"]["status"] == "open"
    assert listed["bob-annulled"]["status"] == "annulled"

    document: dict[str, Any] = json.loads(run("scores", "--json").output)
    authors = {a["author"]: a for a in document["authors"]}
    assert set(authors) == {"Alice", "Bob"}  # Carol gave no probability
    p = {"alice-85": 0.3, "alice-below": 0.8, "alice-70": 0.9, "bob-80": 1.0,
         "bob-manual": 0.25}

    def expected(ids: list[str]) -> tuple[int, float, float]:
        brier = sum((p[i] - OUTCOMES[i]) ** 2 for i in ids) / len(ids)
        clipped = {i: min(max(p[i], 0.001), 0.999) for i in ids}
        log = sum(math.log(clipped[i] if OUTCOMES[i] else 1 - clipped[i]) for i in ids)
        return len(ids), brier, log / len(ids)

    alice, bob = ["alice-85", "alice-below", "alice-70"], ["bob-80", "bob-manual"]
    for record, ids in [(authors["Alice"], alice), (authors["Bob"], bob),
                        (document["all"], alice + bob)]:
        n, brier, log = expected(ids)
        assert record["n"] == n
        assert record["brier"] == pytest.approx(brier, rel=1e-12)
        assert record["log_score"] == pytest.approx(log, rel=1e-12)
    # By hand: Alice (0.09 + 0.04 + 0.01) / 3; Bob (1 + 0.5625) / 2.
    assert authors["Alice"]["brier"] == pytest.approx(0.14 / 3)
    assert authors["Bob"]["brier"] == pytest.approx(0.78125)
    assert authors["Bob"]["log_score"] == pytest.approx((math.log(0.001) + math.log(0.25)) / 2)
    assert [(b["bin"], b["n"], b["yes_share"]) for b in authors["Bob"]["calibration"]] == [
        ("0.2-0.3", 1, 1.0), ("0.9-1.0", 1, 0.0)]

    paces = by_hand(cli, state_dir)
    for author, ids in [("Alice", alice), ("Bob", bob)]:
        defined = [paces[i] for i in ids if paces.get(i) is not None]
        mean = sum(defined) / len(defined) if defined else None  # type: ignore[arg-type]
        assert authors[author]["mean_pace"] == pytest.approx(mean), author

    only = json.loads(run("scores", "--author", "bob", "--json").output)
    assert [a["author"] for a in only["authors"]] == ["Bob"]
    text = run("scores").output
    assert "Alice" in text and "Bob" in text and "calibration of Bob" in text
    assert f"{authors['Alice']['brier']:.3f}" in text
    result = run("scores", "--author", "Dave", expect=1)
    assert "no predictions by 'Dave'; authors: Alice, Bob, Carol" in result.output


def test_no_scores_yet(cli: Cli) -> None:
    assert run("scores").output.strip() == "no resolved predictions with a probability yet"
    assert json.loads(run("scores", "--json").output) == {"authors": [], "all": None}
