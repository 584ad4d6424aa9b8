"""Every source's captured history replayed interleaved in time order, with the seed
predictions of examples/ai-2027.toml: the decision timeline of the public debate."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, SWE_BENCH_HISTORY, Cli
from tests.test_epoch import APRIL, JANUARY, build
from tests.test_metr import TH10, TH11
from tests.test_osworld import SELF_REPORTED, VERIFIED


def every_poll(fixtures: Path, tmp_path: Path) -> list[tuple[str, str, Path]]:
    """(time, source, file) of every recorded payload of every source, in time order (the
    Epoch zips built from the captured CSVs into ``tmp_path``)."""
    january, april = tmp_path / "epoch-january.zip", tmp_path / "epoch-april.zip"
    january.write_bytes(build(fixtures / "epoch", JANUARY))
    april.write_bytes(build(fixtures / "epoch", APRIL))
    return sorted(
        [(at, "swe-bench", fixtures / "swe-bench" / name) for name, at in SWE_BENCH_HISTORY]
        + [(at, "osworld-verified", fixtures / "osworld" / name) for name, at in VERIFIED]
        + [(at, "osworld-self-reported", fixtures / "osworld" / name)
           for name, at in SELF_REPORTED]
        + [(at, "metr-1-0", fixtures / "metr" / name) for name, at in TH10]
        + [(at, "metr", fixtures / "metr" / name) for name, at in TH11]
        + [("2026-01-20T11:09:00Z", "epoch-hub", january),
           ("2026-04-19T23:39:00Z", "epoch-hub", april)])


def timeline(cli: Cli, prediction_id: str) -> list[tuple[object, ...]]:
    return [(e["kind"] if e["kind"] != "status" else e["to_status"], e["outcome"], e["at"])
            for e in cli.events(prediction_id)]


def test_all_sources_interleaved_decide_the_seed_predictions(
    cli: Cli, fixtures: Path, tmp_path: Path,
) -> None:
    polls = every_poll(fixtures, tmp_path)
    cli("predict", "import", str(ROOT / "examples" / "ai-2027.toml"))
    cli("predict", "add", "metr-p50-horizon@1.0 >= 4x sota@2025-04-16 by 2026-04-16",
        "--id", "metr-4x-th10")
    cli("predict", "add", "metr-p50-horizon >= 12h by 2026-12-31", "--id", "metr-12h")
    for at, source, path in polls:
        cli("poll", source, "--from-file", str(path), "--at", at,
            expect=3 if "headerless" in path.name else 0)
    cli("evaluate", "--at", "2026-07-03T00:00Z")

    assert timeline(cli, "ai2027-swe-bench-85") == [
        ("provisional", "no", "2025-09-10T21:09:00Z"), ("resolved", "no", "2025-09-13T21:09:00Z")]
    assert timeline(cli, "ai2027-osworld-65") == [
        ("provisional", "no", "2025-10-04T02:50:00Z"), ("resolved", "no", "2025-10-23T05:06:00Z")]
    # 4x o3 (frozen from the first TH1.1 file: 4 x 120.73 = 482.92 min) through Opus 4.6.
    assert timeline(cli, "metr-4x-in-a-year") == [
        ("baseline", None, "2026-01-30T07:21:00Z"),
        ("provisional", "yes", "2026-02-22T21:10:00Z"),
        ("resolved", "yes", "2026-03-08T21:10:00Z")]
    four = json.loads(cli("show", "metr-4x-in-a-year", "--json").output)
    assert four["evidence"]["key"] == "claude_opus_4_6_inspect"
    assert four["baseline"] == "4 x 120.73min (o3_inspect) = 482.92min"
    assert timeline(cli, "metr-plateau")[1:] == [
        ("provisional", "no", "2026-02-22T21:10:00Z"), ("resolved", "no", "2026-03-08T21:10:00Z")]
    assert timeline(cli, "metr-8h-in-21-months") == [
        ("provisional", "yes", "2026-02-22T21:10:00Z"),
        ("resolved", "yes", "2026-03-08T21:10:00Z")]
    # 16x (1,931.7 min) is not reached, and its window is still open.
    assert [e[0] for e in timeline(cli, "metr-no-16x-in-2-years")] == ["baseline"]
    # On TH1.0 the 4x claim is still open: its late window has not passed at any poll.
    assert [e[0] for e in timeline(cli, "metr-4x-th10")] == ["baseline"]
    # 12 hours: provisional on the 2026-02-22 file, open again when METR revised to 718.81.
    assert timeline(cli, "metr-12h") == [
        ("provisional", "yes", "2026-02-22T21:10:00Z"), ("open", None, "2026-03-04T02:04:00Z")]
    # Other sources are shown beside a decision as corroboration, never mixed in.
    said = {c["source"]: c for c in four["corroboration"]}
    assert said["epoch-hub"]["best"]["subject"] == "claude-opus-4-6_unknown"
    assert said["epoch-hub"]["filters_applied"] is True  # method 1.1 on Epoch's rows too
    assert said["metr-1-0"]["best"] is None  # TH1.0 rows are never method 1.1
    shown = cli("show", "metr-4x-in-a-year").output
    assert "epoch-hub says: 11 h 59 min by claude-opus-4-6_unknown" in shown
    # Manual claims wait for a person.
    listed = {p["id"]: p for p in json.loads(cli("predict", "list", "--json").output)}
    assert listed["engineers-not-replaced-2027"]["status"] == "open"
    sources = {s["name"]: s for s in json.loads(cli("sources", "--json").output)}
    assert sources["osworld-verified"]["last_failure"] == "2025-11-21T04:01:00Z"
