"""SWE-bench leaderboards (kind ``swe-bench-leaderboards``).

Accepts the raw ``leaderboards.json`` in both schemas (``{"leaderboards": [...]}``), the bare
list, and the built site page that embeds the list in
``<script type="application/json" id="leaderboard-data">``.
Boards are looked up by name; the row key is ``<board>/<folder>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sources.base import (
    MAX_BYTES,
    AttrValue,
    Observation,
    PayloadError,
    Snapshot,
    check_size,
    result_date,
    text,
)
from sources.kinds import Benchmark, FixedKind

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

# Found with literal searches, each byte looked at once: a regex with `[^>]*` or `.*?` here
# goes quadratic on a page of many unclosed `<script` tags.
_SCRIPT = re.compile(rb"<script\b", re.IGNORECASE)
_SCRIPT_END = re.compile(rb"</script", re.IGNORECASE)
_LEADERBOARD_ID = re.compile(rb"""\bid\s*=\s*["']?leaderboard-data\b""", re.IGNORECASE)


def parse(body: bytes, headers: Mapping[str, str] | None = None, *,
          max_bytes: int = MAX_BYTES) -> Snapshot:
    check_size(body, max_bytes)
    boards = _boards(body)
    snapshot = Snapshot()
    for board in boards:
        if not isinstance(board, dict):
            continue
        name = board.get("name")
        if not isinstance(name, str) or (benchmark := BOARDS.get(name)) is None:
            # verified-micro / verified-mini lived for a day in 2025-07; not benchmarks of ours.
            continue
        results = board.get("results")
        if not isinstance(results, list):
            snapshot.skip(benchmark, f"{name}: 'results' is not a list, skipped")
            continue
        for row in results:
            _row(snapshot, benchmark, name, row)
    if not snapshot.observations and not snapshot.rejections:
        raise PayloadError("no leaderboard rows found")
    return snapshot


SOURCE_KIND = FixedKind(
    KIND, tuple(Benchmark(benchmark, "%", ATTRIBUTES) for benchmark in BOARDS.values()), parse)


def _boards(body: bytes) -> list[Any]:
    document = _embedded(body) if body.lstrip()[:1] == b"<" else body
    try:
        data = json.loads(document)
    except (ValueError, RecursionError) as error:  # ValueError: also a 5,000-digit integer
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise PayloadError(f"not JSON: {reason}") from None
    if isinstance(data, dict):
        data = data.get("leaderboards")
    if not isinstance(data, list):
        raise PayloadError("no 'leaderboards' list in the JSON")
    return data


def _embedded(page: bytes) -> bytes:
    """The JSON inside the site page's ``<script id="leaderboard-data">`` element."""
    start = 0
    while (opening := _SCRIPT.search(page, start)) is not None:
        end = page.find(b">", opening.end())
        if end < 0:
            break
        if _LEADERBOARD_ID.search(page, opening.end(), end):
            closing = _SCRIPT_END.search(page, end + 1)
            if closing is None:
                break
            return page[end + 1:closing.start()]
        start = end + 1
    raise PayloadError("HTML page without a leaderboard-data script element")


def _row(snapshot: Snapshot, benchmark: str, board: str, row: Any) -> None:
    if not isinstance(row, dict) or not isinstance(row.get("folder"), str):
        snapshot.skip(benchmark, f"{board}: a row without a folder was skipped")
        return
    key = f"{board}/{row['folder']}"
    subject = text(row.get("name")) or row["folder"]
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
            result_date=result_date(row.get("date")),
            attributes=_attributes(row),
        )
    )


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
    tags = row.get("tags")
    for tag in tags if isinstance(tags, list) else ():
        if not isinstance(tag, str):
            continue
        name, _, value = tag.partition(":")
        value = value.strip()
        if name == "System" and value.startswith("Attempts - "):
            attributes["pass@1"] = value == "Attempts - 1"
        elif name == "Org" and value:
            attributes["org"] = value
    return attributes
