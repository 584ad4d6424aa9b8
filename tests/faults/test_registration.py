"""Faults of the user's own input: predictions files, claims and --at values that must be
refused with one line (DESIGN sections 3, 4 and 5), never imported to stop polls later."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.payloads import Payloads, filler, row

GOOD = '[[prediction]]\nid = "good"\nclaim = "swe-bench-verified >= 80% by 2030"\n'


def entry(extra: str, claim: str = "swe-bench-verified >= 80% by 2030") -> str:
    return f'[[prediction]]\nid = "bad"\nclaim = "{claim}"\n{extra}\n'


BAD_FILES = {
    "confirm_hours nan": (entry("confirm_hours = nan"),
                          "'confirm_hours' must be a whole number from 0 to 87,660 (got nan)"),
    "confirm_hours inf": (entry("confirm_hours = inf"), "'confirm_hours' must be a whole number"),
    "confirm_hours fraction": (entry("confirm_hours = 1.5"), "(got 1.5)"),
    "late_days inf": (entry("late_days = inf"), "'late_days' must be a whole number from 0 to "
                                                "3,653 (got inf)"),
    "late_days huge": (entry("late_days = 99999999999"), "(got 99999999999)"),
    "late_days negative": (entry("late_days = -1"), "(got -1)"),
    "confirm_polls huge": (entry("confirm_polls = 100001"), "'confirm_polls' must be a whole"),
    "probability nan": (entry("probability = nan"), "'probability' must be a number from 0 "
                                                    "to 1 (got nan)"),
    "probability 2": (entry("probability = 2"), "(got 2)"),
    "deadline 9999": ('[[prediction]]\nid = "bad"\nclaim = "manual"\ndeadline = 9999-12-31\n'
                      'criteria = "x"\n', "the year of '9999-12-31' is outside 2000-2199"),
    "claim year 9999": (entry("", "swe-bench-verified >= 85% by 9999-12-31"),
                        "the year of '9999-12-31' is outside 2000-2199"),
    "url javascript": (entry('url = "javascript:alert(1)"'),
                       "'url' must be an http: or https: link"),
    "deep nesting": ("x = " + "[" * 5000 + "]" * 5000 + "\n" + GOOD,
                     "not valid TOML: nested too deeply"),
    "binary": ("\x00\x01\x02\xff", "not UTF-8 text"),
    "not a table": ("prediction = [1, 2]\n", "not a table"),
    "title not a string": (entry("title = [1]"), "'title' must be a string"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_predictions_file_is_refused_whole_with_one_line(cli: Cli, tmp_path: Path,
                                                               case: str) -> None:
    text, message = BAD_FILES[case]
    path = tmp_path / "predictions.toml"
    if case == "binary":
        path.write_bytes(b"\x00\x01\x02\xff\xfe")
    else:
        path.write_text(GOOD + text if "bad" in text else text, encoding="utf-8")
    result = cli("predict", "import", str(path), expect=1)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {path}")
    assert message in lines[0]
    assert json.loads(cli("predict", "list", "--json").output) == []  # all or nothing
    # Polls go on: nothing bad was stored.
    write = Payloads(tmp_path)
    cli("poll", "swe-bench", "--from-file", write(filler(5)), "--at", "2025-06-02T00:00Z")


BAD_CLAIMS = {
    "swe-bench-verified >= 85% by 9999-12-31": "the year of '9999-12-31' is outside 2000-2199",
    "swe-bench-verified >= 85% by 1999": "the year of '1999' is outside 2000-2199",
    'swe-bench-verified >= 85% by 2030 where model ~ "a{4294967296}"':
        "invalid regular expression",
    'swe-bench-verified >= 85% by 2030 where model ~ "' + "a" * 201 + '"':
        "longer than 200 characters",
    "metr-p50-horizon >= " + "9" * 400 + "min by 2030": "is not a finite number",
    "metr-p50-horizon >= 1000001min by 2030": "above 1,000,000 minutes can never be recorded",
    "metr-p50-horizon >= " + "9" * 400 + "x sota@2025 by 2030": "is not a finite number",
    "osworld-verified >= 50% by 2030 where steps <= " + "9" * 400: "steps compares with a number",
    "osworld-verified >= 50% by 2030 where steps <= nan": "steps compares with a number",
    "swe-bench-verified >= 101% by 2030": "a percentage above 100 can never be reached",
    "metr-p50-horizon >= 0x sota@2025-04-16 by 2026": "must be above 0",
    "metr-p50-horizon >= 4x sota@2027-01-01 by 2026": "must not end after the window",
}


@pytest.mark.parametrize("claim", sorted(BAD_CLAIMS))
def test_a_bad_claim_is_one_line(cli: Cli, claim: str) -> None:
    result = cli("predict", "add", claim, "--id", "x", expect=1)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: x: claim "), result.output
    assert BAD_CLAIMS[claim] in lines[0]
    assert json.loads(cli("predict", "list", "--json").output) == []


@pytest.mark.parametrize(("given", "normalized"), [
    ("swe-bench-verified >= 0.00001% by 2030", "swe-bench-verified >= 0.00001% by 2030-12-31"),
    ("metr-p50-horizon >= 123456789012345678901234x sota@2025 by 2030",
     "metr-p50-horizon@1.1 >= 123456789012345690000000x sota@2025-12-31 by 2030-12-31"),
    ("swe-bench-verified >= 85.50% by 2199", "swe-bench-verified >= 85.5% by 2199-12-31"),
])
def test_a_normalized_claim_is_positional_and_parses_to_itself(cli: Cli, given: str,
                                                               normalized: str) -> None:
    out = cli("predict", "add", given, "--id", "x").output
    stored = out.strip().split(": ", 1)[1]
    assert stored.startswith(normalized)
    again = cli("predict", "add", stored, "--id", "y").output
    assert again.strip().split(": ", 1)[1] == stored


@pytest.mark.parametrize(("at", "message"), [
    ("0001-01-01", "the timestamp '0001-01-01' is outside the years 1990-2199"),
    ("9999-12-31T23:59:59-01:00", "outside the years 1990-2199"),
    ("2199-12-31T23:59:59-01:00", "outside the years 1990-2199"),
    ("1989-12-31", "outside the years 1990-2199"),
    ("yesterday", "not an ISO 8601 timestamp: 'yesterday'"),
    ("", "not an ISO 8601 timestamp: ''"),
    ("2031-01-01", "--at '2031-01-01' is in the future (2031-01-01T00:00:00Z)"),
])
def test_a_bad_at_is_one_line(cli: Cli, tmp_path: Path, at: str, message: str) -> None:
    for args in (("evaluate", "--at", at),
                 ("poll", "swe-bench", "--from-file", Payloads(tmp_path)(filler(5)), "--at", at)):
        result = cli(*args, expect=1)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert message in lines[0]


def test_an_at_with_an_offset_is_converted_to_utc(cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("predict", "add", "swe-bench-verified >= 80% by 2030", "--id", "p")
    cli("poll", "swe-bench", "--from-file", write(filler(5) + [row("20250601_a", 85.0,
                                                                   "2025-06-01")]),
        "--at", "2025-06-02T05:00+05:00")
    assert [e["at"] for e in cli.events("p")] == ["2025-06-02T00:00:00Z"]


def test_a_baseline_waits_for_its_period_to_end(cli: Cli, tmp_path: Path) -> None:
    """sota@2025-12 is the best row dated by the end of December: a poll in July must not
    freeze it from the rows it has then."""
    write = Payloads(tmp_path)
    cli("predict", "add", "swe-bench-verified >= 1.5x sota@2025-12 by 2026-12-31", "--id", "r")
    cli("poll", "swe-bench", "--from-file", write(filler(5) + [row("20250701_a", 50.0,
                                                                   "2025-07-01")]),
        "--at", "2025-07-02T00:00Z")
    assert cli.events("r") == []
    cli("poll", "swe-bench", "--from-file", write(filler(5) + [
        row("20250701_a", 50.0, "2025-07-01"), row("20251201_b", 60.0, "2025-12-01")]),
        "--at", "2026-01-02T00:00Z")
    [baseline] = cli.events("r")
    assert baseline["reason"] == ("baseline sota@2025-12-31 frozen: 1.5 x 60% (20251201_b) = "
                                  "90%")
