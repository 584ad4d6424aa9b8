"""The lifecycle on small payloads: crossing, reversion, confirmation, late outcomes,
suspicious snapshots, retraction, dating by first-seen, filters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.payloads import Payloads, filler, row


@pytest.fixture
def write(tmp_path: Path) -> Payloads:
    return Payloads(tmp_path)


def poll(cli: Cli, path: str, at: str) -> None:
    cli("poll", "swe-bench", "--from-file", path, "--at", at)


def timeline(cli: Cli, prediction_id: str) -> list[tuple[Any, ...]]:
    return [(e["from_status"], e["to_status"], e["outcome"], e["at"])
            for e in cli.events(prediction_id) if e["kind"] == "status"]


def test_crossing_then_retraction_reverts_to_open(cli: Cli, write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")
    base = filler(10)
    poll(cli, write(base + [row("20250601_star", 81.0, "2025-06-01")]), "2025-06-02")
    poll(cli, write(base), "2025-06-03")  # the row vanished from a healthy board
    assert timeline(cli, "p") == [
        ("open", "provisional", "yes", "2025-06-02T00:00:00Z"),
        ("provisional", "open", None, "2025-06-03T00:00:00Z"),
    ]
    detail = json.loads(cli("show p --json").output)
    assert "retracted by the source" in detail["events"][-1]["reason"]
    # The row returns: live again, and the claim crosses again.
    poll(cli, write(base + [row("20250601_star", 81.0, "2025-06-01")]), "2025-06-04")
    assert timeline(cli, "p")[-1] == ("open", "provisional", "yes", "2025-06-04T00:00:00Z")


def test_revision_below_threshold_reverts_and_better_row_decides(cli: Cli,
                                                                 write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")
    base = filler(10)
    poll(cli, write(base + [row("20250601_a", 85.0, "2025-06-01")]), "2025-06-02")
    # Revised to 79: no longer crosses. Another row crosses in the same poll.
    poll(cli, write(base + [row("20250601_a", 79.0, "2025-06-01"),
                            row("20250605_b", 80.5, "2025-06-05")]), "2025-06-06")
    assert [t[:3] for t in timeline(cli, "p")] == [
        ("open", "provisional", "yes"), ("provisional", "open", None),
        ("open", "provisional", "yes")]
    detail = json.loads(cli("show p --json").output)
    assert "was revised to 79%" in detail["events"][1]["reason"]
    assert detail["evidence"]["key"] == "Verified/20250605_b"


def test_redating_out_of_the_window_reverts(cli: Cli, write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-06-30' --id p")
    base = filler(10)
    poll(cli, write(base + [row("20250601_a", 85.0, "2025-06-01")]), "2025-06-02")
    poll(cli, write(base + [row("20250601_a", 85.0, "2025-07-02")]), "2025-07-03")
    assert [t[1] for t in timeline(cli, "p")] == ["provisional", "open"]


def test_confirmation_needs_hours_and_polls_and_is_dated_when_met(cli: Cli,
                                                                  write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")
    path = write(filler(10) + [row("20250601_a", 85.0, "2025-06-01")])
    poll(cli, path, "2025-06-02T00:00Z")
    cli("evaluate --at 2025-06-06")  # 96 hours, but only one poll
    assert [t[1] for t in timeline(cli, "p")] == ["provisional"]
    poll(cli, path, "2025-06-07T12:00Z")  # an unchanged poll counts
    assert timeline(cli, "p")[-1] == ("provisional", "resolved", "yes", "2025-06-07T12:00:00Z")


def test_confirmation_completed_by_time_alone_is_dated_at_the_moment(cli: Cli,
                                                                     write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")
    path = write(filler(10) + [row("20250601_a", 85.0, "2025-06-01")])
    poll(cli, path, "2025-06-02T00:00Z")
    poll(cli, path, "2025-06-02T06:00Z")
    cli("evaluate --at 2025-06-20")
    assert timeline(cli, "p")[-1] == ("provisional", "resolved", "yes", "2025-06-05T00:00:00Z")
    # Resolved is sticky: a later retraction does not move it.
    poll(cli, write(filler(10)), "2025-06-21")
    assert timeline(cli, "p")[-1][1] == "resolved"


def test_resolution_completed_before_a_retraction_stands(cli: Cli, write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")
    path = write(filler(10) + [row("20250601_a", 85.0, "2025-06-01")])
    poll(cli, path, "2025-06-02T00:00Z")
    poll(cli, path, "2025-06-02T06:00Z")
    # No evaluation between 06-05 (confirmed) and this poll, which retracts the row.
    poll(cli, write(filler(10)), "2025-06-10")
    assert [t[1:] for t in timeline(cli, "p")][-1] == ("resolved", "yes", "2025-06-05T00:00:00Z")


def test_shrinking_board_is_suspicious_until_three_polls_agree(cli: Cli,
                                                               write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")
    cli("predict add 'swe-bench-verified < 95% by 2025-06-01' --id late")
    star = row("20250601_a", 85.0, "2025-06-01")
    poll(cli, write(filler(20) + [star]), "2025-07-01")
    broken = write(filler(3) + [star])  # 21 rows -> 4: suspicious
    poll(cli, broken, "2025-07-02")
    status = json.loads(cli("sources --json").output)[0]
    assert status["suspicious"][0]["benchmark"] == "swe-bench-verified"
    assert "from 21 to 4" in status["suspicious"][0]["reason"]
    # The late outcome of 'late' (due 2025-07-02) is not taken at a suspicious poll.
    assert timeline(cli, "late") == []
    poll(cli, broken, "2025-07-03")
    output = cli("poll", "swe-bench", "--from-file", broken, "--at", "2025-07-04",
                 "--json").output
    rows = json.loads(output[output.index("["):])
    assert rows[0]["status"] == "unchanged"
    status = json.loads(cli("sources --json").output)[0]
    assert status["suspicious"] == []  # retracted at the third agreeing poll
    assert timeline(cli, "late") == [("open", "provisional", "yes", "2025-07-04T00:00:00Z")]


def test_vanished_board_is_suspicious_not_retracted(cli: Cli, write: Payloads) -> None:
    cli("predict add 'swe-bench-lite >= 50% by 2025-12-31' --id lite")
    poll(cli, write(filler(5), lite=[row("20250101_l", 60.0, "2025-01-01")]), "2025-02-01")
    poll(cli, write(filler(5)), "2025-02-02")  # Lite vanished
    assert [t[1] for t in timeline(cli, "lite")] == ["provisional"]
    status = json.loads(cli("sources --json").output)[0]
    assert status["suspicious"][0]["benchmark"] == "swe-bench-lite"


def test_dated_by_first_seen_ignores_backdated_rows(cli: Cli, write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-06-30 dated by first-seen' --id seen")
    cli("predict add 'swe-bench-verified >= 80% by 2025-06-30' --id dated")
    poll(cli, write(filler(5)), "2025-06-01")
    # Published in July, dated in May.
    poll(cli, write(filler(5) + [row("20250501_late", 82.0, "2025-05-01")]), "2025-07-10")
    assert [t[2] for t in timeline(cli, "dated")] == ["yes"]
    assert timeline(cli, "seen") == []


def test_filters_use_only_what_the_row_states(cli: Cli, write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31 where checked and pass@1' --id f")
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31 where model ~ \"^agent\"' --id m")
    rows = filler(5) + [
        row("20250601_a", 90.0, "2025-06-01", name="Agent A", checked=True),  # pass@1 unknown
        row("20250602_b", 85.0, "2025-06-02", name="B", checked="false (See README.md)",
            tags=["System: Attempts - 1"]),
        row("20250603_c", 81.0, "2025-06-03", name="C", checked=True,
            tags=["System: Attempts - 1"]),
    ]
    poll(cli, write(rows), "2025-06-04")
    assert json.loads(cli("show f --json").output)["evidence"]["key"] == "Verified/20250603_c"
    assert json.loads(cli("show m --json").output)["evidence"]["key"] == "Verified/20250601_a"


def test_a_failed_fetch_moves_nothing(cli: Cli, write: Payloads, tmp_path: Path) -> None:
    cli("predict add 'swe-bench-verified < 95% by 2025-01-31' --id p")
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"leaderboards": [')
    result = cli("poll", "swe-bench", "--from-file", str(broken), "--at", "2025-06-01",
                 expect=3)
    assert "status=failed" in result.output and "unusable payload: not JSON" in result.output
    assert timeline(cli, "p") == []
    status = json.loads(cli("sources --json").output)[0]
    assert status["failing_since"] == "2025-06-01T00:00:00Z"
    assert status["last_error"].startswith("unusable payload: not JSON")


def test_evaluate_refuses_to_go_back_in_time(cli: Cli, write: Payloads) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")
    poll(cli, write(filler(5) + [row("20250601_a", 85.0, "2025-06-01")]), "2025-06-02")
    result = cli("evaluate --at 2025-06-01", expect=1)
    assert "cannot evaluate at 2025-06-01T00:00:00Z" in result.output


def test_a_crash_mid_poll_leaves_nothing_half_ingested(
    cli: Cli, write: Payloads, state_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    from resolver import lifecycle

    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    evaluate = lifecycle.evaluate
    monkeypatch.setattr(lifecycle, "evaluate", crash)
    path = write(filler(5) + [row("20250601_a", 85.0, "2025-06-01")])
    result = cli("poll", "swe-bench", "--from-file", path, "--at", "2025-06-02", expect=3)
    assert result.exception is not None and not isinstance(result.exception, RuntimeError)
    with sqlite3.connect(state_dir / "resolver.db") as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("observations", "versions", "payloads", "events")]
        fetches = conn.execute("SELECT status, error FROM fetches").fetchall()
    # The ingest was rolled back whole, and the poll is recorded as failed with its reason.
    assert counts == [0, 0, 0, 0]
    assert fetches == [("failed", "could not ingest: RuntimeError: power cut")]
    monkeypatch.setattr(lifecycle, "evaluate", evaluate)
    cli("poll", "swe-bench", "--from-file", path, "--at", "2025-06-02")
    assert [t[1] for t in timeline(cli, "p")] == ["provisional"]


def test_suspicious_benchmarks_show_in_the_digest(cli: Cli, write: Payloads) -> None:
    poll(cli, write(filler(20)), "2025-07-01T12:00Z")
    poll(cli, write(filler(3)), "2025-07-02T12:00Z")
    digest = cli("digest --date 2025-07-03 --stdout").output
    assert ("swe-bench: swe-bench-verified looks suspicious (row count fell by more than half,"
            " from 20 to 3); nothing retracted until three polls agree") in digest


def test_a_retired_source_annuls_what_is_undecided(cli: Cli, write: Payloads,
                                                   tmp_path: Path) -> None:
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id crossed")
    cli("predict add 'swe-bench-verified >= 99% by 2025-12-31' --id undecided")
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id done --confirm-hours 0 "
        "--confirm-polls 1")
    poll(cli, write(filler(5) + [row("20250601_a", 85.0, "2025-06-01")]), "2025-06-02")
    config = tmp_path / "retired.toml"
    config.write_text("[sources.swe-bench]\nretired = true\n")
    cli("evaluate", "--at", "2025-06-03", RESOLVER_CONFIG=str(config))
    statuses = {p["id"]: (p["status"], p["outcome"])
                for p in json.loads(cli("predict list --json").output)}
    assert statuses == {"crossed": ("annulled", None), "undecided": ("annulled", None),
                        "done": ("resolved", "yes")}
    reason = json.loads(cli("show undecided --json").output)["events"][-1]["reason"]
    assert reason == "source swe-bench is retired"
