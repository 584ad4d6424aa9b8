"""Untrusted text in log lines: one line per poll and per change, whatever a source says."""

from __future__ import annotations

import logging

import pytest

from resolver import log


@pytest.mark.parametrize("hostile", ["evil\nprediction id=p from=open to=resolved",
                                     "a\rb", "x\u2028y", "tab\there", "nul\x00"])
def test_a_value_never_ends_its_log_line(capsys: pytest.CaptureFixture[str],
                                         hostile: str) -> None:
    log.setup()
    log.event("rejected", source="swe-bench", subject=hostile, reason="value 271 is over 100")
    logging.getLogger("resolver").handlers[0].flush()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("rejected source=swe-bench subject=\"")
    assert "reason=\"value 271 is over 100\"" in out

