"""Replay of the whole SWE-bench history with `resolver poll swe-bench --from-file F --at T`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.conftest import SWE_BENCH_HISTORY, Cli, replay


def events(cli: Cli, prediction_id: str) -> list[dict[str, Any]]:
    return [e for e in cli.events(prediction_id) if e["kind"] == "status"]


def test_replay_decides_the_seed_claims_and_never_counts_271(cli: Cli, swe_bench: Path) -> None:
    cli("predict", "add", "swe-bench-verified >= 85% by 2025-07-31", "--id", "mid-2025")
    cli("predict", "add", "swe-bench-verified >= 85% by 2025-12-31", "--id", "end-2025")
    cli("predict", "add", "swe-bench-verified < 85% by 2025-12-31", "--id", "stays-below")
    cli("predict", "add", "swe-bench-verified >= 79% by 2025-12-31", "--id", "seventy-nine")
    replay(cli, swe_bench, SWE_BENCH_HISTORY, "swe-bench")

    # >= 85% by 2025-07-31: no, decided at the first poll after 2025-07-31 + 30 late days.
    mid = events(cli, "mid-2025")
    assert [(e["to_status"], e["outcome"], e["at"]) for e in mid] == [
        ("provisional", "no", "2025-09-10T21:09:00Z"),
        ("resolved", "no", "2025-09-13T21:09:00Z"),
    ]
    row = mid[0]["evidence"]["row"]
    july = (swe_bench / "leaderboards.2025-07-31.json").read_bytes()
    assert (row["key"], row["value"], row["result_date"], row["subject"]) == (
        "Verified/20250612_trae", 75.2, "2025-06-12", "TRAE")
    assert row["snapshot_sha256"] == hashlib.sha256(july).hexdigest()
    assert row["first_seen"] == "2025-07-31T16:33:00Z"
    # The evidence gives back the archived bytes, from which the value can be re-derived.
    assert cli("evidence", row["snapshot_sha256"][:12]).stdout_bytes == july

    # >= 85% by 2025-12-31: never yes. The 271.0 row was rejected, not counted.
    end = events(cli, "end-2025")
    assert all(e["outcome"] != "yes" for e in end)
    assert [(e["to_status"], e["outcome"], e["at"]) for e in end] == [
        ("provisional", "no", "2026-02-26T21:20:00Z")]
    assert end[0]["evidence"]["row"]["value"] == 79.2
    below = events(cli, "stays-below")
    assert [(e["to_status"], e["outcome"]) for e in below] == [("provisional", "yes")]

    # >= 79% crosses only with the December rows that the 2026-02-26 page shows.
    crossed = events(cli, "seventy-nine")
    assert [(e["to_status"], e["outcome"], e["at"]) for e in crossed] == [
        ("provisional", "yes", "2026-02-26T21:20:00Z")]
    sonar = "Verified/20251205_sonar-foundation-agent_claude-opus-4-5"
    assert crossed[0]["evidence"]["key"] == sonar

    listed = {p["id"]: p for p in json.loads(cli("predict", "list", "--json").output)}
    assert listed["mid-2025"]["status"] == "resolved"
    assert listed["mid-2025"]["resolved_at"] == "2025-09-13T21:09:00Z"
    assert listed["mid-2025"]["evidence"]["snapshot_sha256"] == row["snapshot_sha256"]
    assert listed["end-2025"]["resolved_at"] is None


def test_rejected_row_is_logged_and_reported(cli: Cli, swe_bench: Path) -> None:
    result = cli("poll", "swe-bench", "--from-file",
                 str(swe_bench / "leaderboards.2025-09-10-bad-unit.json"), "--at", "2025-09-10")
    assert "rejected source=swe-bench benchmark=swe-bench-verified" in result.output
    assert 'reason="value 271 is outside the range of percent (0 to 100)"' in result.output


def test_replay_refuses_to_go_back_in_time(cli: Cli, swe_bench: Path) -> None:
    cli("poll", "swe-bench", "--from-file", str(swe_bench / "leaderboards.2025-07-31.json"),
        "--at", "2025-07-31T16:33:00Z")
    result = cli("poll", "swe-bench", "--from-file",
                 str(swe_bench / "leaderboards.2025-05-07.json"), "--at", "2025-05-07",
                 expect=1)
    assert "would go back in time" in result.output
    assert "Traceback" not in result.output


def test_same_payload_again_is_an_unchanged_poll(cli: Cli, swe_bench: Path) -> None:
    path = str(swe_bench / "leaderboards.2025-07-31.json")
    cli("poll", "swe-bench", "--from-file", path, "--at", "2025-07-31T16:33:00Z")
    second = cli("poll", "swe-bench", "--from-file", path, "--at", "2025-08-01", "--json")
    [polled] = json.loads(second.output[second.output.index("["):])
    assert polled["status"] == "unchanged" and polled["rows"] == 247
