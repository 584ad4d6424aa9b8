"""Frontier, fit, projection and pace (DESIGN section 12): METR's own doubling time
reproduced from its files, the frontier rules, deterministic projections, and pace on the
SWE-bench history."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from resolver.cli_trend import scores, trend
from resolver.filters import Filter
from resolver.frontier import Point, frontier
from resolver.trend import FrontierKey, Refits, TooFewRows, fit, pace
from state.rows import Row, Version
from tests.conftest import ROOT, SWE_BENCH_HISTORY, Cli, replay

TH11 = [  # polls of metr at the commit times of the fixtures README, in UTC
    ("benchmark_results_1_1.2026-01-30.yaml", "2026-01-30T07:21:00Z"),
    ("benchmark_results_1_1.2026-02-22.yaml", "2026-02-22T21:10:00Z"),
    ("benchmark_results_1_1.2026-03-03.yaml", "2026-03-04T02:04:00Z"),
]
TH10 = ("benchmark_results.2026-01-04.yaml", "2026-01-04T21:49:00Z")  # a poll of metr-1-0


def group() -> click.Group:
    """The real group's error handling with the two commands of resolver.cli_trend (which
    the lead registers on resolver.cli's own group)."""
    from resolver.cli import _Context, _Group

    @click.group(cls=_Group)
    @click.pass_context
    def resolver(ctx: click.Context) -> None:
        ctx.obj = _Context(verbose=False)

    resolver.add_command(trend)
    resolver.add_command(scores)
    return resolver


def run(*args: str, expect: int = 0) -> Result:
    result = CliRunner().invoke(group(), list(args), catch_exceptions=True)
    if result.exit_code != expect:
        raise AssertionError(f"resolver {' '.join(args)} exited {result.exit_code}, expected "
                             f"{expect}:\n{result.output}{result.exception!r}")
    return result


def trend_json(*args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run("trend", *args, "--json").output)
    return document


@pytest.fixture
def metr(fixtures: Path) -> Path:
    return fixtures / "metr"


# -- the METR check -------------------------------------------------------------------------


def test_metr_doubling_time_is_metrs_own_on_every_th11_file(cli: Cli, metr: Path) -> None:
    """After each poll, the fit over the frontier since 2023 gives the doubling time that the
    polled file itself states, within 1% (it agrees to METR's three decimals)."""
    for name, at in TH11:
        cli("poll", "metr", "--from-file", str(metr / name), "--at", at)
        stated = yaml.safe_load((metr / name).read_bytes())["doubling_time_in_days"]
        theirs = stated["from_2023_on"]["point_estimate"]
        ours = trend_json("metr-p50-horizon@1.1", "--since", "2023-01-01")
        assert ours["transform"] == "log2" and ours["at"] == at
        assert ours["doubling_days"] == pytest.approx(theirs, rel=0.01), name
        assert abs(ours["doubling_days"] - theirs) < 0.001, name
        assert ours["doubling_days"] == pytest.approx(1 / ours["slope_per_day"])
        assert ours["n"] == len(ours["frontier"]) >= 11


def hand_frontier(path: Path, since: dt.date) -> list[tuple[str, dt.date, float]]:
    """The frontier of a METR file by hand: per release date the best p50 estimate, kept
    when it beats every earlier date's best."""
    data = yaml.safe_load(path.read_bytes())
    by_day: dict[dt.date, tuple[str, dt.date, float]] = {}
    for key, entry in data["results"].items():
        day, value = entry["release_date"], entry["metrics"]["p50_horizon_length"]["estimate"]
        if day not in by_day or value > by_day[day][2]:
            by_day[day] = (key, day, value)
    records, best = [], -math.inf
    for day in sorted(by_day):
        if by_day[day][2] > best:
            best = by_day[day][2]
            records.append(by_day[day])
    return [r for r in records if r[1] >= since]


def hand_doubling_days(points: list[tuple[str, dt.date, float]]) -> float:
    """OLS slope of log2(minutes) on the day, from the normal equations."""
    xs = [p[1].toordinal() for p in points]
    ys = [math.log2(p[2]) for p in points]
    n, mx, my = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
    slope = (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
             / sum((x - mx) ** 2 for x in xs))
    assert n >= 4
    return 1 / slope


def test_the_same_rule_on_th10_against_a_hand_computation(cli: Cli, metr: Path) -> None:
    name, at = TH10
    cli("poll", "metr-1-0", "--from-file", str(metr / name), "--at", at)
    ours = trend_json("metr-p50-horizon@1.0", "--since", "2023-01-01")
    by_hand = hand_frontier(metr / name, dt.date(2023, 1, 1))
    assert [(p["key"], p["date"], p["value"]) for p in ours["frontier"]] == [
        (key, day.isoformat(), value) for key, day, value in by_hand]
    assert ours["n"] == len(by_hand) == 14
    assert ours["doubling_days"] == pytest.approx(hand_doubling_days(by_hand), rel=1e-9)
    # o3 and o4-mini were both released on 2025-04-16: one point, the better one.
    same_day = [p for p in ours["frontier"] if p["date"] == "2025-04-16"]
    assert [(p["key"], p["value"]) for p in same_day] == [("o3", 94.005541)]


# -- the frontier rules, on rows ------------------------------------------------------------

AT = "2026-01-01T00:00:00Z"


def row(key: str, *versions: tuple[float, str | None, str], retracted: bool = False,
        **attributes: Any) -> Row:
    """A row whose versions are (value, result_date, first_seen)."""
    made = Row(len(key), "s", "b", key, versions[0][2], retracted)
    for n, (value, result_date, first_seen) in enumerate(versions, start=1):
        made.versions.append(Version(n, n, key, value, None, None, result_date,
                                     dict(attributes), first_seen, None, None))
    return made


def keys(points: list[Point]) -> list[str]:
    return [p.key for p in points]


def test_ties_on_a_date_are_one_point_and_only_records_are_kept() -> None:
    rows = [row("a", (10, "2025-01-01", AT)), row("o4-mini", (78.6, "2025-04-16", AT)),
            row("o3", (94.0, "2025-04-16", AT)), row("worse", (50, "2025-05-01", AT)),
            row("equal", (94.0, "2025-06-01", AT)), row("undated", (500, None, AT)),
            row("twin-b", (120, "2025-07-01", AT)), row("twin-a", (120, "2025-07-01", AT))]
    found = frontier(rows, at=AT)
    # A record must beat every earlier date's best: equalling it is not one.
    assert keys(found) == ["a", "o3", "twin-a"]
    assert [p.date for p in found][1] == dt.date(2025, 4, 16)
    assert keys(frontier(rows, at=AT, since=dt.date(2025, 2, 1))) == ["o3", "twin-a"]


def test_filters_keep_only_rows_whose_attributes_say_so() -> None:
    rows = [row("checked", (40, "2024-01-01", AT), checked=True),
            row("unchecked", (60, "2024-02-01", AT), checked=False),
            row("unknown", (70, "2024-03-01", AT)),
            row("later", (50, "2024-04-01", AT), checked=True, org="Acme")]
    assert keys(frontier(rows, at=AT)) == ["checked", "unchecked", "unknown"]
    assert keys(frontier(rows, filters=[Filter("checked")], at=AT)) == ["checked", "later"]
    assert keys(frontier(rows, filters=[Filter("checked"), Filter("org", "=", "acme")],
                         at=AT)) == ["later"]
    assert keys(frontier(rows, filters=[Filter("model", "~", "^un")], at=AT)) == [
        "unchecked", "unknown"]


def test_dated_by_first_seen_uses_the_first_seen_date_of_the_counting_version() -> None:
    rows = [row("old-model", (80, "2023-01-01", "2025-06-01T10:00:00Z")),
            row("early", (50, "2024-01-01", "2024-01-05T00:00:00Z")),
            row("revised", (40, "2024-02-01", "2024-02-02T00:00:00Z"),
                (60, "2024-02-01", "2025-03-01T00:00:00Z"))]
    by_result = frontier(rows, at=AT)
    assert keys(by_result) == ["old-model"]
    by_first_seen = frontier(rows, basis="first-seen", at=AT)
    assert [(p.key, p.date.isoformat(), p.value) for p in by_first_seen] == [
        ("early", "2024-01-05", 50), ("revised", "2025-03-01", 60),
        ("old-model", "2025-06-01", 80)]
    # As of an earlier moment, only what was seen by then counts, with its version then.
    earlier = frontier(rows, basis="first-seen", at="2024-12-31T00:00:00Z")
    assert [(p.key, p.value) for p in earlier] == [("early", 50)]


def test_a_retracted_row_leaves_the_frontier() -> None:
    rows = [row("a", (10, "2024-01-01", AT)), row("b", (30, "2024-06-01", AT)),
            row("c", (20, "2024-09-01", AT)), row("d", (40, "2025-01-01", AT))]
    assert keys(frontier(rows, at=AT)) == ["a", "b", "d"]
    rows[1].retracted = True
    assert keys(frontier(rows, at=AT)) == ["a", "c", "d"]


def test_fewer_than_four_rows_cannot_be_fitted(cli: Cli, metr: Path) -> None:
    points = frontier([row("a", (10, "2024-01-01", AT)), row("b", (20, "2024-06-01", AT)),
                       row("c", (40, "2025-01-01", AT))], at=AT)
    with pytest.raises(TooFewRows, match="needs at least 4 frontier rows"):
        fit(points, unit="min", since=dt.date(2023, 1, 1), at=AT)
    name, at = TH11[0]
    cli("poll", "metr", "--from-file", str(metr / name), "--at", at)
    text = run("trend", "metr-p50-horizon", "--since", "2025-03-01").output
    assert "needs at least 4 frontier rows" in text and "3 since 2025-03-01" in text
    document = trend_json("metr-p50-horizon", "--since", "2025-03-01")
    assert (document["n"], document["doubling_days"], document["slope_per_day"]) == (3, None,
                                                                                        None)


def test_the_fit_on_each_unit() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=100 * i) for i in range(5)]
    doubling = [Point(f"k{i}", "s", 10 * 2 ** i, day, None) for i, day in enumerate(days)]
    line = fit(doubling, unit="min", since=dt.date(2023, 1, 1), at=AT)
    assert line.transform == "log2" and line.doubling_days == pytest.approx(100)
    assert line.rate == line.doubling_days
    assert line.crossing(160) == days[4]
    linear = [Point(f"k{i}", "s", 100 + 50 * i, day, None) for i, day in enumerate(days)]
    points = fit(linear, unit="pts", since=dt.date(2023, 1, 1), at=AT)
    assert points.transform == "linear" and points.doubling_days is None
    assert points.rate == pytest.approx(0.5 * 365.25)
    percent = [Point(f"k{i}", "s", v, day, None) for i, (v, day) in
               enumerate(zip([0.0, 20, 50, 80, 100], days, strict=True))]
    saturating = fit(percent, unit="%", since=dt.date(2023, 1, 1), at=AT)
    assert saturating.transform == "logit" and saturating.doubling_days is None
    # The 0% and 100% rows are clipped to 0.1% and 99.9%: the fit stays finite.
    assert math.isfinite(saturating.slope_per_day) and saturating.slope_per_day > 0
    assert saturating.current == 100
    p = 0.999  # the best now, clipped like the fit
    assert saturating.rate == pytest.approx(100 * p * (1 - p) * saturating.slope_per_day
                                            * 365.25)


# -- projection -----------------------------------------------------------------------------

PROJECTED = {
    "m8": "metr-p50-horizon >= 8h by 2027-01-31",
    "m8-below": "metr-p50-horizon < 8h by 2027-01-31",
    "m16": "metr-p50-horizon >= 16h by 2026-12-31",
    "m4x": "metr-p50-horizon >= 4x sota@2025-04-16 by 2026-04-16",
    "swe": "swe-bench-verified >= 90% by 2026-12-31",
}
SUBPROCESS = """
import sys
from tests.test_trend import group
group()(sys.argv[1:], prog_name="resolver")
"""


def projections(document: dict[str, Any]) -> dict[str, Any]:
    return {c["id"]: c["projection"] for c in document["claims"]}


def test_projections_are_deterministic_bounded_and_complementary(cli: Cli, metr: Path,
                                                                 state_dir: Path) -> None:
    for prediction_id, claim in PROJECTED.items():
        cli("predict", "add", claim, "--id", prediction_id)
    name, at = TH11[0]
    cli("poll", "metr", "--from-file", str(metr / name), "--at", at)
    first = trend_json("metr-p50-horizon")
    found = projections(first)
    assert set(found) == {"m8", "m8-below", "m16", "m4x"}  # open claims on this benchmark
    for projection in found.values():
        assert 0 <= projection["p_by_deadline"] <= 1
        assert projection["n"] == first["n"] and projection["rate"] == first["doubling_days"]
        assert projection["since"] == "2023-01-30" and projection["at"] == at
    assert found["m8-below"]["p_by_deadline"] == 1 - found["m8"]["p_by_deadline"]
    assert found["m8"]["crossing_date"] == found["m8-below"]["crossing_date"]
    assert found["m16"]["p_by_deadline"] < found["m8"]["p_by_deadline"]
    assert found["m16"]["crossing_date"] > found["m8"]["crossing_date"]
    assert 0 < found["m8"]["p_by_deadline"] < 1
    # The fitted line reaches 8 h where the doubling time says it does.
    line_at = dt.date.fromisoformat(at[:10])
    days = math.log2(480 / first["fitted_now"]) * first["doubling_days"]
    crossing = dt.date.fromisoformat(found["m8"]["crossing_date"])
    assert abs((crossing - (line_at + dt.timedelta(days=days))).days) <= 1
    # The same figure every time, in this process and in another one.
    assert projections(trend_json("metr-p50-horizon")) == found
    assert projections(trend_json("metr-p50-horizon", "--at", "2026-06-01")) == found
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", SUBPROCESS, "trend", "metr-p50-horizon",
                            "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True)
    assert projections(json.loads(other.stdout)) == found
    # People read rounded figures with their unit.
    text = run("trend", "metr-p50-horizon").output
    assert "doubling every " in text and " days" in text and "5 h 20 min" in text
    assert f"{found['m8']['p_by_deadline']:.0%}" in text


def test_refits_are_seeded_by_the_frontier_key() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=61 * i) for i in range(8)]
    points = [Point(f"k{i}", "s", 10 * 1.5 ** i * (1.2 if i % 2 else 0.9), day, None)
              for i, day in enumerate(days)]
    line = fit(points, unit="min", since=dt.date(2023, 1, 1), at=AT)
    key = FrontierKey("metr", "metr-p50-horizon", "1.1", "", "result", line.since, AT)
    again = FrontierKey("metr", "metr-p50-horizon", "1.1", "", "result", line.since, AT)
    other = FrontierKey("metr", "metr-p50-horizon", "1.1", "", "first-seen", line.since, AT)
    assert key.seed == again.seed != other.seed
    one, two, three = Refits(points, line, key), Refits(points, line, again), Refits(
        points, line, other)
    assert one.lines == two.lines != three.lines and len(one.lines) == 2000
    end = dt.date(2027, 1, 1)
    shares = [one.share_crossing(t, end, strict=False) for t in (10, 100, 1000, 10_000, 1e12)]
    assert shares == sorted(shares, reverse=True) and shares[0] == 1 and shares[-1] == 0
    assert all(0 <= s <= 1 for s in shares)
    # A chart's band: the line between the refits' 2.5% and 97.5% values, widening ahead.
    band = one.band([dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2027, 1, 1)])
    assert all(low < value < high for _, value, low, high in band)
    widths = [high / low for _, _, low, high in band]
    assert widths[0] < widths[1] < widths[2]


# -- pace -----------------------------------------------------------------------------------


def logit(percent: float) -> float:
    p = percent / 100
    return math.log(p / (1 - p))


def test_pace_on_swe_bench_is_what_the_rows_imply(cli: Cli, swe_bench: Path,
                                                  state_dir: Path) -> None:
    from resolver.claims import parse
    from resolver.sota import Views
    from resolver.trend import Trends
    from state.db import open_db

    replay(cli, swe_bench, SWE_BENCH_HISTORY, "swe-bench")
    claim = parse("swe-bench-verified >= 85% by 2025-07-31")
    at = SWE_BENCH_HISTORY[-1][1]
    db = open_db(state_dir)
    views = Views(db, at)
    # By hand, from the rows the store holds as of the last poll.
    live = [r.latest for r in views("swe-bench").rows["swe-bench-verified"]
            if not r.retracted and r.latest.result_date]
    base = max(v.value for v in live if v.result_date < "2025-04-03")  # type: ignore[operator]
    best = max(v.value for v in live if v.result_date < "2025-08-01")  # type: ignore[operator]
    assert best == 75.2 and base < best < 85
    expected = (logit(best) - logit(base)) / (logit(85) - logit(base))
    found = Trends(views).pace(claim, 85.0, "2025-04-03")
    assert found == pytest.approx(expected, rel=1e-12)
    assert found == pytest.approx(pace("%", 85, base=base, best=best))
    assert 0 < found < 1
    # Undefined for < claims, and where the threshold was not above the state of the art.
    below = parse("swe-bench-verified < 85% by 2025-07-31")
    assert Trends(views).pace(below, 85.0, "2025-04-03") is None
    assert Trends(views).pace(claim, base - 1, "2025-04-03") is None
    assert pace("min", 480, base=120, best=240) == pytest.approx(0.5)
    assert pace("pts", 160, base=100, best=130) == pytest.approx(0.5)
    assert pace("%", 85, base=None, best=80) is None


def test_user_errors_are_one_line(cli: Cli) -> None:
    for args, message in [
        (("trend", "no-such-bench"), "unknown benchmark 'no-such-bench'"),
        (("trend", "swe-bench-verified@1.1"), "only METR metrics take a method"),
        (("trend", "metr-p50-horizon@2.0"), "unknown METR method '2.0'"),
        (("trend", "swe-bench-verified", "--source", "nope"), "unknown source 'nope'"),
        (("trend", "swe-bench-verified", "--source", "metr"), "source metr has no benchmark"),
        (("trend", "swe-bench-verified", "--since", "2023-13"), "malformed date '2023-13'"),
        (("trend", "swe-bench-verified", "--at", "yesterday"), "not an ISO 8601 timestamp"),
        (("trend", "swe-bench-verified"), "swe-bench has no successful poll yet"),
    ]:
        result = run(*args, expect=1)
        assert message in result.output and len(result.output.splitlines()) == 1, args
