"""Small SWE-bench-shaped payloads written by tests for edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def row(folder: str, resolved: float, date: str, **extra: Any) -> dict[str, Any]:
    return {"name": extra.pop("name", folder), "folder": folder, "resolved": resolved,
            "date": date, **extra}


def payload(verified: list[dict[str, Any]], lite: list[dict[str, Any]] | None = None) -> bytes:
    boards = [{"name": "Verified", "results": verified}]
    if lite is not None:
        boards.append({"name": "Lite", "results": lite})
    return json.dumps({"leaderboards": boards}).encode()


def filler(n: int, value: float = 40.0) -> list[dict[str, Any]]:
    """``n`` unremarkable rows, so that a board has a healthy size."""
    return [row(f"2025010{i % 9 + 1}_filler{i}", value, "2025-01-01") for i in range(n)]


class Payloads:
    """Writes numbered payload files into a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, verified: list[dict[str, Any]],
                 lite: list[dict[str, Any]] | None = None) -> str:
        self.count += 1
        path = self.folder / f"payload-{self.count}.json"
        path.write_bytes(payload(verified, lite))
        return str(path)
