"""Golden digests: a fixed history renders to exactly these bytes (tests/golden/*.expected).
After an intended change of the output, rewrite them with UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, Cli
from tests.payloads import Payloads, filler, row

GOLDEN = ROOT / "tests" / "golden"


def scenario(cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id eighty --title 'Eighty'")
    cli("predict add 'swe-bench-verified < 90% by 2025-06-30' --id below-90 --late-days 0")
    cli("predict add 'swe-bench-verified >= 85% by 2025-06-20' --id soon --title 'Soon'")
    cli("predict add manual --id judged --deadline 2025-05 --criteria 'a person checks'")
    cli("poll", "swe-bench", "--from-file", write(filler(6) + [
        row("20250520_a", 78.5, "2025-05-20", name="Agent A", checked=True)]),
        "--at", "2025-06-01T08:00Z")
    cli("poll", "swe-bench", "--from-file", write(filler(6) + [
        row("20250520_a", 78.5, "2025-05-20", name="Agent A", checked=True),
        row("20250601_b", 81.25, "2025-06-01", name="Agent <B> *bold*")]),
        "--at", "2025-06-02T09:00Z")


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_golden_digest(cli: Cli, tmp_path: Path, fmt: str) -> None:
    scenario(cli, tmp_path)
    rendered = cli("digest", "--date", "2025-06-03", "--format", fmt, "--stdout").output
    rendered = rendered.replace(str(tmp_path), "<tmp>")
    # The chain head hashes wall-clock recorded_at and the tmp path: its count stays.
    rendered = re.sub(r'(head"?:? "?)[0-9a-f]{64}', r"\1<sha256>", rendered)
    expected = GOLDEN / f"digest-2025-06-03.{fmt}.expected"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(rendered, encoding="utf-8")
    assert rendered == expected.read_text(encoding="utf-8")


def test_a_past_date_renders_the_same_after_later_changes(cli: Cli, tmp_path: Path) -> None:
    scenario(cli, tmp_path)
    before = {fmt: cli("digest", "--date", "2025-06-03", "--format", fmt, "--stdout").output
              for fmt in ("md", "json", "html")}
    cli("evaluate --at 2025-07-15")
    cli("resolve judged no --note 'checked by hand' --by ann")
    cli("resolve eighty yes --note 'seen it' --by ann")
    after = {fmt: cli("digest", "--date", "2025-06-03", "--format", fmt, "--stdout").output
             for fmt in ("md", "json", "html")}
    assert after == before
