"""Where an open claim stands, as show, predict list and trend say it: the same projection
from each, as of the latest poll of the claim's source, with numbers for people."""

from __future__ import annotations

import json

from tests.conftest import Cli, fixtures_dir

TH11 = [("benchmark_results_1_1.2026-01-30.yaml", "2026-01-30T07:21:00Z"),
        ("benchmark_results_1_1.2026-02-22.yaml", "2026-02-22T21:10:00Z")]


def test_show_list_and_trend_give_the_same_projection(cli: Cli) -> None:
    metr = fixtures_dir() / "metr"
    cli("predict", "add", "metr-p50-horizon < 16x sota@2025-04-16 by 2027-04-16", "--id", "no16")
    cli("predict", "add", "metr-p50-horizon >= 24h by 2027-06-30", "--id", "day")
    for name, at in TH11:
        cli("poll", "metr", "--from-file", str(metr / name), "--at", at)
    shown = {i: json.loads(cli("show", i, "--json").output)["projection"] for i in ("no16", "day")}
    listed = {item["id"]: item["projection"]
              for item in json.loads(cli("predict", "list", "--json").output)}
    trend = json.loads(cli("trend", "metr-p50-horizon@1.1", "--json").output)
    trended = {item["id"]: item["projection"] for item in trend["claims"]}
    assert shown == listed == trended
    for projection in shown.values():
        assert 0 <= projection["p_by_deadline"] <= 1
        assert projection["at"] == "2026-02-22T21:10:00Z"  # the latest poll of metr
        assert projection["n"] == trend["n"]
    # The refits are shared: reaching 24 h by 2027-06-30 is at least as likely as reaching
    # the higher 16 x 120.73 min by the earlier 2027-04-16 (the < claim's P is 1 minus that).
    assert shown["day"]["p_by_deadline"] >= 1 - shown["no16"]["p_by_deadline"] - 1e-12
    text = cli("show", "day").output
    assert "  trend:      P(yes) " in text and "the fitted line reaches 24 h on " in text
    assert "best in window: 14 h 30 min by claude_opus_4_6_inspect" in text
