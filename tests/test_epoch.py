"""The epoch-zip kind on zips built from the captured CSVs, and a replay of its history."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from sources import epoch_zip
from sources.base import Observation, PayloadError, Snapshot
from tests.conftest import Cli

APRIL = {
    "swe_bench_verified.csv": "swe_bench_verified.2026-04-19.csv",
    "swe_bench_bash.csv": "swe_bench_bash.2026-04-19.csv",
    "os_world_external.csv": "os_world_external.2026-04-19.csv",
    "metr_time_horizons_external.csv": "metr_time_horizons_external.2026-04-19.csv",
}
JANUARY = {
    "swe_bench_verified.csv": "swe_bench_verified.2026-01-20.csv",
    "metr_time_horizons_external.csv": "metr_time_horizons_external.2026-01-20.csv",
}


@pytest.fixture
def epoch(fixtures: Path) -> Path:
    return fixtures / "epoch"


def build(folder: Path, members: dict[str, str], extra: dict[str, bytes] | None = None) -> bytes:
    """A zip like Epoch's, from the captured CSVs, its members in one top folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, name in members.items():
            archive.write(folder / name, f"benchmark_data/{member}")
        for member, data in (extra or {}).items():
            archive.writestr(f"benchmark_data/{member}", data)
    return buffer.getvalue()


def find(snapshot: Snapshot, benchmark: str, subject: str) -> Observation:
    [found] = [o for o in snapshot.observations
               if o.benchmark == benchmark and o.subject == subject]
    return found


def best(snapshot: Snapshot, benchmark: str) -> Observation:
    return max((o for o in snapshot.observations if o.benchmark == benchmark),
               key=lambda o: o.value)


def test_april_zip(epoch: Path) -> None:
    snapshot = epoch_zip.parse(build(epoch, APRIL, {"osworld_2_external.csv": b"x,y\n1,2\n",
                                                    "benchmark_metadata.csv": b"a\n1\n"}))
    assert Counter(o.benchmark for o in snapshot.observations) == {
        "metr-p50-horizon": 46, "osworld": 56, "swe-bench-bash-only": 33,
        "swe-bench-verified": 25, "metr-p80-horizon": 13}
    assert snapshot.rejections == [] and snapshot.skipped == [] and snapshot.failed == {}
    # A member the unit table does not know is listed, not read; the metadata is no member.
    assert snapshot.unknown == ["osworld_2_external.csv"]
    # Fractions become percent; Epoch's own SWE-bench runs are out of 484 tasks.
    top = best(snapshot, "swe-bench-verified")
    assert (top.subject, top.value, top.result_date) == ("claude-opus-4-6", 78.719008264,
                                                         "2026-02-18")
    bash = best(snapshot, "swe-bench-bash-only")
    assert (bash.subject, bash.value, bash.result_date) == ("claude-opus-4-5-20251101", 76.8,
                                                            "2026-02-17")
    # OSWorld keeps who reported the score; the vendor-claimed 66.3 is Anthropic's.
    vendor = best(snapshot, "osworld")
    assert (vendor.value, vendor.result_date, vendor.attributes["reported-by"]) == (
        66.3, "2025-11-25", "Anthropic annoucement")
    agi = find(snapshot, "osworld", "agi-0 (50 steps)")
    assert (agi.key, agi.value) == ("agi-0 (50 steps) | OS World Website", 65.4)
    # METR rows keep their method; the same model appears under both.
    o3_10 = find(snapshot, "metr-p50-horizon", "o3-2025-04-16_medium")
    o3_11 = find(snapshot, "metr-p50-horizon", "o3-2025-04-16_unknown")
    assert (o3_10.value, o3_10.attributes["method"]) == (91.271355, "1.0")
    assert (o3_11.value, o3_11.attributes["method"], o3_11.result_date) == (
        119.732634, "1.1", "2025-04-16")
    opus = find(snapshot, "metr-p80-horizon", "claude-opus-4-6_unknown")
    assert opus.value == 69.874587


def test_january_zip_has_no_80_percent_horizons(epoch: Path) -> None:
    snapshot = epoch_zip.parse(build(epoch, JANUARY))
    assert Counter(o.benchmark for o in snapshot.observations) == {
        "metr-p50-horizon": 33, "swe-bench-verified": 23}
    assert find(snapshot, "metr-p50-horizon", "claude-opus-4-5-20251101_16K").attributes == {
        "method": "1.0", "org": "Anthropic"}


def test_byte_order_mark_newlines_in_fields_and_day_first_dates(epoch: Path) -> None:
    legacy = {"os_world_external.csv": "legacy/external_benchmark_os_world.2025-07-22.csv"}
    snapshot = epoch_zip.parse(build(epoch, legacy))
    assert len(snapshot.observations) == 44
    qwen = find(snapshot, "osworld", "Qwen2.5-vl-72B")
    assert (qwen.value, qwen.result_date) == (8.8, "2025-01-26")


@pytest.mark.parametrize("members, reason", [
    ({"swe_bench_verified.csv": b"Model version,mean_score\nx,0.5\n"},
     "swe_bench_verified.csv: missing column 'Started at'"),
    ({"other.csv": b"a\n1\n"},
     "no benchmark member this kind knows: 'other.csv' \\(unit unknown\\)"),
])
def test_unusable_zips(members: dict[str, bytes], reason: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(PayloadError, match=reason):
        epoch_zip.parse(buffer.getvalue())


def test_not_a_zip() -> None:
    with pytest.raises(PayloadError, match="not a zip archive"):
        epoch_zip.parse(b"<html>")


def test_a_percent_in_a_fraction_column_is_rejected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("swe_bench_bash.csv", "Model version,% Resolved,Date run,id\n"
                         "a,76.8,2026-01-01,r1\nb,0.5,2026-01-01,r2\n")
    snapshot = epoch_zip.parse(buffer.getvalue())
    assert [r.reason for r in snapshot.rejections] == [
        "% Resolved 76.8 is not a fraction from 0 to 1"]
    assert [o.value for o in snapshot.observations] == [50.0]


def test_replay(cli: Cli, epoch: Path, tmp_path: Path) -> None:
    january, april = tmp_path / "january.zip", tmp_path / "april.zip"
    january.write_bytes(build(epoch, JANUARY))
    april.write_bytes(build(epoch, APRIL))
    cli("predict", "add", "osworld >= 65% by 2025-12-31", "--id", "osworld")
    cli("predict", "add", "swe-bench-verified >= 78% by 2026-03 where source = epoch-hub",
        "--id", "epoch-swe")
    cli("predict", "add", "metr-p50-horizon@1.0 >= 90min by 2025-06 where source = epoch-hub",
        "--id", "epoch-metr")
    cli("poll", "epoch-hub", "--from-file", str(january), "--at", "2026-01-20T11:09Z")
    polled = cli("poll", "epoch-hub", "--from-file", str(april), "--at", "2026-04-19T23:39Z")
    # Epoch dropped every old SWE-bench run in April (23 rows) while listing 25 new ones:
    # a healthy benchmark, so the old rows are retracted.
    assert "retracted=23" in polled.output and "suspicious" not in polled.output
    shown = {i: json.loads(cli("show", i, "--json").output)
             for i in ("osworld", "epoch-swe", "epoch-metr")}
    assert (shown["osworld"]["status"], shown["osworld"]["evidence"]["value"]) == (
        "provisional", 66.3)
    assert shown["epoch-swe"]["evidence"]["subject"] == "claude-opus-4-6"
    assert shown["epoch-metr"]["evidence"]["subject"] == "o3-2025-04-16_medium"
    assert shown["epoch-metr"]["events"][0]["at"] == "2026-01-20T11:09:00Z"
    output = cli("poll", "epoch-hub", "--from-file", str(april), "--at", "2026-04-20",
                 "--json").output
    assert json.loads(output[output.index("["):])[0]["status"] == "unchanged"
