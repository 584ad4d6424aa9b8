"""Fuzzed claims: whatever a user types, the parser returns a claim whose normalized text
parses to itself, or a ClaimError with a position; never another exception. 10,000 examples
of each in CI (``CI`` set), a few hundred elsewhere."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolver import claims
from resolver.errors import ClaimError
from resolver.filters import format_number

EXAMPLES = 10_000 if os.environ.get("CI") else 300

# Pieces of the grammar, so that most fuzzed claims get deep into the parser.
WORDS = ["swe-bench-verified", "osworld-verified", "metr-p50-horizon", "metr-p80-horizon@1.0",
         "metr-p50-horizon@2", "hle", ">=", ">", "<=", "<", "=", "~", "85%", "0.00001%",
         "1" * 30 + "%", "100%", "8h", "90min", "1.5h", "4x", "sota@2025-04-16", "sota@9999",
         "by", "between", "and", "2025-07-31", "2025", "2025-Q3", "2026-H2", "2025-13",
         "2199-12-31", "2200", "1999", "dated", "result", "first-seen", "where", "checked",
         "pass@1", "steps", "<=", "50", "1e400", "nan", "inf", "model", '"a{4294967296}"',
         '"(?P<x>"', '"' + "a" * 250 + '"', '"x\\"y"', "org", "source", "epoch-hub", "sheet",
         '"screenshot"', "single-rollout", "approach", '"', "\\", "\x00", "\u2028", "٣"]


def check(text: str) -> None:
    try:
        claim = claims.parse(text)
    except ClaimError as error:
        assert 0 <= error.position <= len(text)
        assert "\n" not in error.problem
        return
    again = claims.parse(claim.normalized)
    assert again == claim
    assert again.normalized == claim.normalized
    assert "e-" not in claim.normalized.split(" by ")[0].split(" between ")[0]


@given(st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_grammar_shaped_claims_never_crash(text: str) -> None:
    check(text)


@given(st.text(max_size=120))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_text_never_crashes(text: str) -> None:
    check(text)


@given(threshold=st.floats(min_value=0, max_value=100, allow_nan=False),
       op=st.sampled_from([">=", ">", "<=", "<"]))
@settings(max_examples=EXAMPLES // 10, deadline=None)
def test_every_percent_threshold_normalizes_to_itself(threshold: float, op: str) -> None:
    text = f"swe-bench-verified {op} {format_number(threshold)}% by 2030"
    claim = claims.parse(text)
    assert claim.threshold == threshold
    assert claims.parse(claim.normalized) == claim
