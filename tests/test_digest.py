"""The digest of a date: its window, its sections, deterministic output."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

from resolver import digest
from resolver.settings import load
from state.db import open_db
from tests.conftest import Cli
from tests.payloads import Payloads, filler, row


def test_digest_lists_resolutions_with_evidence_and_is_deterministic(
    cli: Cli, tmp_path: Path, state_dir: Path,
) -> None:
    write = Payloads(tmp_path)
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p --title 'Eighty'")
    evil = row("20250601_x", 81.0, "2025-06-01", name="<script>alert(1)</script> *bold*")
    path = write(filler(5) + [evil])
    cli("poll", "swe-bench", "--from-file", path, "--at", "2025-06-02T10:00Z")
    content = json.loads(cli("digest --date 2025-06-03 --format json --stdout").output)
    assert content["window"] == {"from": "2025-06-02T06:30:00Z", "to": "2025-06-03T06:30:00Z"}
    assert set(content) >= {"date", "window", "generated_at", "resolutions", "reversions",
                            "records", "upcoming", "awaiting_judgment", "reports",
                            "backfilled", "sources"}
    [entry] = content["resolutions"]
    assert (entry["id"], entry["status"], entry["outcome"]) == ("p", "provisional", "yes")
    assert entry["evidence"]["key"] == "Verified/20250601_x"
    assert len(entry["evidence"]["snapshot_sha256"]) == 64
    markdown = cli("digest --date 2025-06-03 --stdout").output
    assert "\\<script>alert(1)\\</script> \\*bold\\*" in markdown
    assert "<script>" not in markdown.replace("\\<script>", "")
    assert "threshold >= 80% reached" in markdown and "Verified/20250601_x" in markdown
    # The day before and after are quiet.
    assert "A quiet day" in cli("digest --date 2025-06-02 --stdout").output
    assert "A quiet day" in cli("digest --date 2025-06-04 --stdout").output
    # Writing the files twice gives the same bytes.
    first = cli("digest --date 2025-06-03").output.split()
    before = [Path(p).read_bytes() for p in first]
    cli("digest --date 2025-06-03")
    assert [Path(p).read_bytes() for p in first] == before


def test_bet_settlement_in_the_digest(cli: Cli, tmp_path: Path) -> None:
    predictions = tmp_path / "bet.toml"
    predictions.write_text(
        '[[prediction]]\nid = "bet"\nclaim = "manual"\ndeadline = "2025-01"\n'
        'criteria = "x"\n[prediction.bet]\nyes = "Ann"\nno = "Bob"\nstake = "10 USD"\n')
    cli("predict", "import", str(predictions))
    cli("resolve bet no --note 'did not happen' --by judge")
    today = dt.datetime.now(dt.UTC).date()
    for day in (today, today + dt.timedelta(days=1)):
        content = json.loads(cli("digest", "--date", day.isoformat(), "--format", "json",
                                 "--stdout").output)
        if content["resolutions"]:
            break
    [entry] = content["resolutions"]
    assert entry["settlement"] == {"yes": "Ann", "no": "Bob", "stake": "10 USD",
                                   "payer": "Ann", "payee": "Bob"}


def test_catch_up_writes_missed_days_once(state_dir: Path, monkeypatch: object) -> None:
    settings = load()
    db = open_db(settings.state_dir)
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    # A store that never polled successfully writes no digest (tests/test_start.py: the first
    # is the one after its first successful poll).
    assert digest.due_dates(db, settings, now=now, catch_up=True) == []
    digest.write_once(db, settings, dt.date(2026, 3, 1))
    due = digest.due_dates(db, settings, now=now, catch_up=True)
    assert due == [dt.date(2026, 3, d) for d in range(3, 11)]  # at most catch_up_days + today
    assert digest.write_once(db, settings, dt.date(2026, 3, 3)) is True
    assert digest.write_once(db, settings, dt.date(2026, 3, 3)) is False
    early = dt.datetime(2026, 3, 10, 5, 0, tzinfo=dt.UTC)  # before 06:30
    assert dt.date(2026, 3, 10) not in digest.due_dates(db, settings, now=early, catch_up=True)


def test_counts_say_what_they_count_and_a_baseline_alone_is_news(cli: Cli,
                                                                 tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id a")
    cli("predict add 'swe-bench-verified >= 81% by 2025-12-31' --id b --confirm-hours 1")
    cli("predict add 'swe-bench-verified >= 2.5x sota@2025-01 by 2025-12-31' --id rel")
    cli("poll", "swe-bench", "--from-file", write(filler(5)), "--at", "2025-06-01T10:00Z")
    only_baseline = json.loads(cli("digest --date 2025-06-02 --format json --stdout").output)
    assert only_baseline["summary"] == "1 baseline frozen, 1 new record"
    markdown = cli("digest --date 2025-06-02 --stdout").output
    assert "## Baselines frozen" in markdown and "quiet" not in markdown
    base = filler(5) + [row("20250601_x", 82.0, "2025-06-01")]
    cli("poll", "swe-bench", "--from-file", write(base), "--at", "2025-06-02T10:00Z")
    cli("poll", "swe-bench", "--from-file", write(base + filler(1, 41.0)),
        "--at", "2025-06-02T12:00Z")
    content = json.loads(cli("digest --date 2025-06-03 --format json --stdout").output)
    assert content["summary"] == "2 became provisional, 1 resolved, 1 new record"
    quiet = json.loads(cli("digest --date 2025-06-05 --format json --stdout").output)
    assert quiet["summary"] == "A quiet day: no prediction changed."
    assert "A quiet day: no prediction changed." in cli("digest --date 2025-06-05 --stdout").output


def test_a_digest_in_whose_window_a_scored_prediction_resolved_carries_the_track_record(
        cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id a --author Ann "
        "--probability 0.8 --confirm-hours 1")
    cli("predict add 'swe-bench-verified >= 95% by 2025-12-31' --id b --author Bo "
        "--probability 0.3")
    base = filler(5) + [row("20250601_x", 82.0, "2025-06-01")]
    cli("poll", "swe-bench", "--from-file", write(base), "--at", "2025-06-02T08:00Z")
    cli("poll", "swe-bench", "--from-file", write(base + filler(1, 41.0)),
        "--at", "2025-06-02T12:00Z")
    content = json.loads(cli("digest --date 2025-06-03 --format json --stdout").output)
    # Only Ann's resolved (yes at p = 0.8): Brier (0.8 - 1)^2, log score ln(0.8).
    assert [(r["author"], r["n"]) for r in content["scores"]["authors"]] == [("Ann", 1)]
    assert content["scores"]["all"]["brier"] == pytest.approx(0.04)
    assert content["scores"]["all"]["log_score"] == pytest.approx(math.log(0.8))
    assert "| Ann | 1 | 0.040 | -0.223 |" in cli("digest --date 2025-06-03 --stdout").output
    assert "Track record" in cli("digest --date 2025-06-03 --format html --stdout").output
    quiet = json.loads(cli("digest --date 2025-06-05 --format json --stdout").output)
    assert "scores" not in quiet  # only in a window where a scored prediction resolved
