"""The code's shape, as the README's "Where things live" describes it: small modules, and SQL
only in state/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p for folder in ("resolver", "state", "sources")
                 for p in (ROOT / folder).glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_module_is_over_400_lines(module: Path) -> None:
    assert len(module.read_text().splitlines()) <= 400


@pytest.mark.parametrize("module", [m for m in MODULES if m.parent.name != "state"],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_only_state_speaks_sql(module: Path) -> None:
    text = module.read_text()
    assert ".execute(" not in text and ".executemany(" not in text
