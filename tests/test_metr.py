"""The metr-yaml kind on every captured file, and replays of the METR seed claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sources import metr_yaml
from sources.base import Observation, PayloadError, Snapshot
from tests.conftest import Cli, replay

TH10 = [  # polls of metr-1-0 at the commit times of the fixtures README, in UTC
    ("benchmark_results.2025-08-01.yaml", "2025-08-02T01:50:00Z"),
    ("benchmark_results.2025-08-10.yaml", "2025-08-11T02:42:00Z"),
    ("benchmark_results.2025-11-28.yaml", "2025-11-29T02:32:00Z"),
    ("benchmark_results.2026-01-04.yaml", "2026-01-04T21:49:00Z"),
]
TH11 = [  # polls of metr
    ("benchmark_results_1_1.2026-01-30.yaml", "2026-01-30T07:21:00Z"),
    ("benchmark_results_1_1.2026-02-22.yaml", "2026-02-22T21:10:00Z"),
    ("benchmark_results_1_1.2026-03-03.yaml", "2026-03-04T02:04:00Z"),
]


@pytest.fixture
def metr(fixtures: Path) -> Path:
    return fixtures / "metr"


def parse(folder: Path, name: str) -> Snapshot:
    return metr_yaml.parse((folder / name).read_bytes())


def p50(snapshot: Snapshot, key: str) -> Observation:
    [found] = [o for o in snapshot.observations
               if o.key == key and o.benchmark == "metr-p50-horizon"]
    return found


@pytest.mark.parametrize("name, models, o3_key, o3", [
    ("benchmark_results.2025-08-01.yaml", 26, "o3", (92.179215, 46.878526, 163.900967)),
    ("benchmark_results.2025-08-10.yaml", 27, "o3", (92.179215, 46.878526, 163.900967)),
    ("benchmark_results.2025-11-28.yaml", 32, "o3", (92.179215, 46.878526, 163.900967)),
    ("benchmark_results.2026-01-04.yaml", 33, "o3", (94.005541, 48.011179, 166.825336)),
    ("benchmark_results_1_1.2026-01-30.yaml", 17, "o3_inspect",
     (120.730463, 74.2793, 200.838465)),
    ("benchmark_results_1_1.2026-02-22.yaml", 23, "o3_inspect",
     (120.730463, 71.3893, 196.741901)),
    ("benchmark_results_1_1.2026-03-03.yaml", 23, "o3_inspect",
     (119.732634, 72.982684, 191.583353)),
])
def test_every_file(metr: Path, name: str, models: int, o3_key: str,
                    o3: tuple[float, float, float]) -> None:
    snapshot = parse(metr, name)
    assert len(snapshot.observations) == 2 * models and snapshot.rejections == []
    row = p50(snapshot, o3_key)
    assert (row.value, row.ci_low, row.ci_high) == o3
    assert row.result_date == "2025-04-16" and row.subject == o3_key


def test_methods_and_scaffolds(metr: Path) -> None:
    agents_era = parse(metr, "benchmark_results.2025-08-01.yaml")
    assert dict(p50(agents_era, "o3").attributes) == {"method": "1.0", "scaffold": "flock-secret"}
    th11 = parse(metr, "benchmark_results_1_1.2026-03-03.yaml")
    opus = p50(th11, "claude_opus_4_6_inspect")
    assert (opus.value, opus.result_date, opus.attributes["method"]) == (
        718.80683, "2026-02-05", "1.1")
    # Models carried over from TH1.0 say so per model.
    assert p50(th11, "gpt2").attributes["method"] == "1.0"
    p80 = [o for o in th11.observations
           if o.key == "claude_opus_4_6_inspect" and o.benchmark == "metr-p80-horizon"]
    assert p80[0].value == 69.874587
    newest = parse(metr, "benchmark_results.2026-01-04.yaml")
    assert p50(newest, "claude_opus_4_5").value == 288.904952


@pytest.mark.parametrize("body, reason", [
    (b"results: [1, 2", "not YAML"),
    (b"benchmark_name: x\n", "no 'results' mapping"),
    (b"results: {}\n", "no horizon estimates"),
    (b"<html>404</html>", "no 'results' mapping"),
])
def test_unusable_payloads(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        metr_yaml.parse(body)


def test_negative_estimate_is_rejected() -> None:
    body = (b"results:\n  m:\n    release_date: 2025-01-01\n    metrics:\n"
            b"      p50_horizon_length: {estimate: -5}\n"
            b"      p80_horizon_length: {estimate: 2}\n")
    snapshot = metr_yaml.parse(body)
    assert [r.reason for r in snapshot.rejections] == [
        "value -5 is outside the range of minutes (above 0, at most 1000000)"]
    assert [o.value for o in snapshot.observations] == [2.0]


def status_events(cli: Cli, prediction_id: str) -> list[dict[str, object]]:
    return cli.events(prediction_id)


def test_th11_replay_decides_the_metr_seed_claims(cli: Cli, metr: Path) -> None:
    cli("predict", "add", "metr-p50-horizon >= 4x sota@2025-04-16 by 2026-04-16", "--id", "4x")
    cli("predict", "add", "metr-p50-horizon < 4x sota@2025-04-16 by 2026-04-16", "--id", "plateau")
    cli("predict", "add", "metr-p50-horizon >= 12h by 2026-12-31", "--id", "12h")
    cli("predict", "add", "metr-p50-horizon >= 8h by 2027-01-31", "--id", "8h")
    replay(cli, metr, TH11, "metr")
    four = status_events(cli, "4x")
    baseline = four[0]
    assert baseline["kind"] == "baseline" and baseline["at"] == "2026-01-30T07:21:00Z"
    assert baseline["reason"] == ("baseline sota@2025-04-16 frozen: 4 x 120.73min "
                                  "(o3_inspect) = 482.92min")
    assert [(e["to_status"], e["outcome"], e["at"]) for e in four[1:]] == [
        ("provisional", "yes", "2026-02-22T21:10:00Z")]
    assert four[1]["evidence"]["key"] == "claude_opus_4_6_inspect"
    assert four[1]["evidence"]["value"] == 870.027186
    detail = json.loads(cli("show", "4x", "--json").output)
    assert detail["baseline"].endswith("= 482.92min")
    # The revision to 718.81 (still >= 482.92) keeps it provisional with the same deciding row.
    plateau = status_events(cli, "plateau")
    assert [(e["to_status"], e["outcome"]) for e in plateau[1:]] == [("provisional", "no")]
    # 12h = 720 min: 870.03 crosses, the revision to 718.81 no longer does.
    twelve = status_events(cli, "12h")
    assert [(e["to_status"], e["outcome"], e["at"]) for e in twelve] == [
        ("provisional", "yes", "2026-02-22T21:10:00Z"),
        ("open", None, "2026-03-04T02:04:00Z")]
    assert "was revised to 718.81min, which no longer crosses 720min" in str(
        twelve[1]["reason"])
    # 8h = 480 min: crossed, and METR's confirmation takes 336 hours.
    eight = status_events(cli, "8h")
    assert [(e["to_status"], e["outcome"]) for e in eight] == [("provisional", "yes")]
    cli("evaluate", "--at", "2026-03-08T21:09Z")
    assert status_events(cli, "8h")[-1]["to_status"] == "provisional"
    cli("evaluate", "--at", "2026-03-09T00:00Z")
    last = status_events(cli, "8h")[-1]
    assert (last["to_status"], last["at"]) == ("resolved", "2026-03-08T21:10:00Z")


def test_th10_never_reaches_4x_and_methods_never_mix(cli: Cli, metr: Path) -> None:
    cli("predict", "add", "metr-p50-horizon@1.0 >= 4x sota@2025-04-16 by 2026-04-16",
        "--id", "4x-th10")
    cli("predict", "add", "metr-p50-horizon@1.0 >= 4x sota@2025-04-16 by 2026-04-16 "
        "where source = metr", "--id", "4x-th10-from-metr")
    replay(cli, metr, TH10, "metr-1-0")
    replay(cli, metr, TH11, "metr")
    events = status_events(cli, "4x-th10")
    assert [e["kind"] for e in events] == ["baseline"]
    assert "4 x 92.18min (o3) = 368.72min" in str(events[0]["reason"])
    # Reading metr (TH1.1) pinned to method 1.0: only the three models METR carried over
    # from TH1.0 qualify, never a TH1.1 estimate such as o3_inspect's.
    [mixed] = status_events(cli, "4x-th10-from-metr")
    assert mixed["reason"] == ("baseline sota@2025-04-16 frozen: 4 x 0.6min "
                               "(gpt_3_5_turbo_instruct) = 2.42min")


def test_a_baseline_is_frozen_at_registration_when_its_data_is_stored(cli: Cli,
                                                                      metr: Path) -> None:
    replay(cli, metr, TH11[:1], "metr")
    cli("predict", "add", "metr-p50-horizon >= 4x sota@2025-04-16 by 2026-04-16", "--id", "4x")
    [event] = status_events(cli, "4x")
    assert event["kind"] == "baseline" and event["reason"].endswith(
        "4 x 120.73min (o3_inspect) = 482.92min")
    # Registered before any data: it freezes at the first poll that has some.
    cli("predict", "add", "metr-p80-horizon@1.0 >= 2x sota@2025-04-16 by 2026-04-16",
        "--id", "th10")
    assert status_events(cli, "th10") == []
