"""SWE-bench leaderboards (kind ``swe-bench-leaderboards``).

Accepts the raw ``leaderboards.json`` in both schemas (``{"leaderboards": [...]}``), the bare
list, and the built site page that embeds the list in
``<script type="application/json" id="leaderboard-data">``.
Boards are looked up by name; the row key is ``<board>/<folder>``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from sources.base import AttrValue, Observation, PayloadError, Snapshot

KIND = "swe-bench-leaderboards"

BOARDS: dict[str, str] = {
    "Verified": "swe-bench-verified",
    "Lite": "swe-bench-lite",
    "Test": "swe-bench-full",
    "Multimodal": "swe-bench-multimodal",
    "bash-only": "swe-bench-bash-only",
    "Multilingual": "swe-bench-multilingual",
}

ATTRIBUTES: dict[str, type] = {
    "checked": bool,
    "pass@1": bool,
    "open-weights": bool,
    "open-source": bool,
    "org": str,
}
BENCHMARKS: dict[str, dict[str, type]] = dict.fromkeys(BOARDS.values(), ATTRIBUTES)

_EMBEDDED = re.compile(
    rb'<script[^>]*id="leaderboard-data"[^>]*>(.*?)</script>', re.DOTALL | re.IGNORECASE
)


def parse(body: bytes, headers: Mapping[str, str] | None = None) -> Snapshot:
    boards = _boards(body)
    snapshot = Snapshot()
    for board in boards:
        if not isinstance(board, dict):
            continue
        benchmark = BOARDS.get(str(board.get("name")))
        if benchmark is None:
            # verified-micro / verified-mini lived for a day in 2025-07; not benchmarks of ours.
            continue
        for row in board.get("results") or []:
            _row(snapshot, benchmark, board["name"], row)
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError("no leaderboard rows found")
    return snapshot


def _boards(body: bytes) -> list[Any]:
    text = body
    if body.lstrip()[:1] == b"<":
        match = _EMBEDDED.search(body)
        if match is None:
            raise PayloadError("HTML page without a leaderboard-data script element")
        text = match.group(1)
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"not JSON: {error}") from None
    if isinstance(data, dict):
        data = data.get("leaderboards")
    if not isinstance(data, list):
        raise PayloadError("no 'leaderboards' list in the JSON")
    return data


def _row(snapshot: Snapshot, benchmark: str, board: str, row: Any) -> None:
    if not isinstance(row, dict) or not isinstance(row.get("folder"), str):
        snapshot.notes.append(f"{board}: a row without a folder was skipped")
        return
    key = f"{board}/{row['folder']}"
    subject = str(row.get("name") or row["folder"])
    value = snapshot.value(benchmark, key, subject, row.get("resolved"), unit="%",
                           column="'resolved'")
    if value is None:
        return
    snapshot.observations.append(
        Observation(
            benchmark=benchmark,
            key=key,
            subject=subject,
            value=value,
            result_date=_date(row.get("date")),
            attributes=_attributes(row),
        )
    )


def _date(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        return dt.date.fromisoformat(raw.strip()[:10]).isoformat()
    except ValueError:
        return None


def _attributes(row: dict[str, Any]) -> dict[str, AttrValue]:
    attributes: dict[str, AttrValue] = {}
    # `checked` is true only when it is the boolean true; the old schema called it `verified`.
    checked = row["checked"] if "checked" in row else row.get("verified")
    if isinstance(checked, bool | str):
        attributes["checked"] = checked is True
    open_weights = row.get("os_model")
    if isinstance(open_weights, bool):
        attributes["open-weights"] = open_weights
    open_source = row["os_system"] if "os_system" in row else row.get("oss")
    if isinstance(open_source, bool):
        attributes["open-source"] = open_source
    for tag in row.get("tags") or []:
        if not isinstance(tag, str):
            continue
        name, _, value = tag.partition(":")
        value = value.strip()
        if name == "System" and value.startswith("Attempts - "):
            attributes["pass@1"] = value == "Attempts - 1"
        elif name == "Org" and value:
            attributes["org"] = value
    return attributes
