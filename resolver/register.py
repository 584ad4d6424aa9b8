"""Registering predictions: one from the command line, or a TOML file, all or nothing.

A prediction's id, normalized claim, probability, bet and timing values never change; title,
author, quote and url may be updated by registering the same prediction again.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from resolver import claims, clock
from resolver.errors import ClaimError, RegistrationError
from resolver.evaluate import due
from resolver.settings import Settings
from state import predictions as store
from state.db import write

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_WEB_LINK = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
MAX_FILE_BYTES = 16 * 1024 * 1024
_FIELDS = {"id", "claim", "title", "author", "quote", "url", "probability", "late_days",
           "confirm_hours", "confirm_polls", "bet", "deadline", "criteria"}


def build(settings: Settings, entry: Mapping[str, Any], *, where: str = "") -> dict[str, Any]:
    """A prediction record from one entry (a ``[[prediction]]`` table or the CLI options)."""
    prefix = f"{where}: " if where else ""
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise RegistrationError(f"{prefix}unknown field {unknown[0]!r}; known: "
                                f"{', '.join(sorted(_FIELDS))}")
    prediction_id = entry.get("id")
    if not isinstance(prediction_id, str) or not _ID.match(prediction_id):
        raise RegistrationError(f"{prefix}'id' must be 1-100 letters, digits, '.', '_' or '-', "
                                f"starting with a letter or digit (got {prediction_id!r})")
    prefix = f"{where}: {prediction_id}: " if where else f"{prediction_id}: "
    raw = entry.get("claim")
    if not isinstance(raw, str) or not raw.strip():
        raise RegistrationError(f"{prefix}'claim' is required (a claim, or \"manual\")")
    record: dict[str, Any] = {"id": prediction_id, "raw": raw.strip()}
    for name in ("title", "author", "quote", "url", "criteria"):
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise RegistrationError(f"{prefix}'{name}' must be a string")
        record[name] = value
    if record["url"] is not None and not _WEB_LINK.match(record["url"]):
        raise RegistrationError(f"{prefix}'url' must be an http: or https: link "
                                f"(got {record['url'][:80]!r})")
    record["probability"] = _probability(entry.get("probability"), prefix)
    record["bet"] = _bet(entry.get("bet"), prefix)
    if raw.strip() == "manual":
        return _manual(record, entry, prefix)
    if entry.get("deadline") is not None:
        raise RegistrationError(f"{prefix}'deadline' is only for manual claims; a claim's "
                                "window gives its deadline")
    try:
        claim = claims.parse(raw, settings.source_kinds())
    except ClaimError as error:
        raise RegistrationError(f"{prefix}{error}") from None
    source = settings.resolved_sources()[claim.source]
    late_days = _timing(entry, "late_days", source.late_days, prefix, int)
    record.update(
        claim=claim.normalized, source=claim.source, benchmark=claim.benchmark,
        late_days=late_days, due=due(claim, late_days), op=claim.op,
        threshold=claim.threshold, partition=claim.partition,
        confirm_hours=_timing(entry, "confirm_hours", source.confirm_hours, prefix, float),
        confirm_polls=_timing(entry, "confirm_polls", source.confirm_polls, prefix, int),
    )
    return record


def _manual(record: dict[str, Any], entry: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    deadline = entry.get("deadline")
    text = deadline.isoformat() if isinstance(deadline, dt.date) else deadline
    period = claims.parse_period(str(text)) if text is not None else None
    if period is None:
        problem = claims.date_problem(str(text)) if text is not None else "no date given"
        raise RegistrationError(f"{prefix}a manual claim needs 'deadline' (YYYY-MM-DD, YYYY-MM, "
                                f"YYYY-Qn, YYYY-H1/H2 or YYYY): {problem}")
    if not record.get("criteria"):
        raise RegistrationError(f"{prefix}a manual claim needs 'criteria': what a person checks")
    record.update(claim="manual", raw="manual", deadline=period.last_day.isoformat())
    return record


# The largest value of each timing setting: ten years (DESIGN section 4).
TIMING_LIMITS = {"late_days": 3653, "confirm_hours": 87660, "confirm_polls": 10_000}


def _timing(entry: Mapping[str, Any], name: str, default: Any, prefix: str, kind: type) -> Any:
    value = entry.get(name)
    if value is None:
        return default
    limit = TIMING_LIMITS[name]
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value != int(value) or not 0 <= value <= limit):
        raise RegistrationError(f"{prefix}'{name}' must be a whole number from 0 to {limit:,}"
                                f" (got {value!r})")
    return kind(value)


def _probability(value: Any, prefix: str) -> float | None:
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not 0 <= value <= 1):
        raise RegistrationError(f"{prefix}'probability' must be a number from 0 to 1 "
                                f"(got {value!r})")
    return float(value)


def _bet(value: Any, prefix: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RegistrationError(f"{prefix}'bet' must be a table with yes, no and stake")
    bet: dict[str, Any] = {}
    for name in ("yes", "no", "stake"):
        if not isinstance(value.get(name), str) or not value[name].strip():
            raise RegistrationError(f"{prefix}bet.{name} is required (a string)")
        bet[name] = value[name].strip()
    extra = set(value) - {"yes", "no", "stake", "if_annulled"}
    if extra:
        raise RegistrationError(f"{prefix}bet has unknown field {sorted(extra)[0]!r}")
    annulled = value.get("if_annulled")
    if annulled is not None:
        if not isinstance(annulled, Mapping) or not all(
            isinstance(annulled.get(k), str) for k in ("payer", "stake")
        ):
            raise RegistrationError(f"{prefix}bet.if_annulled needs payer and stake (strings)")
        if annulled["payer"] not in (bet["yes"], bet["no"]):
            raise RegistrationError(f"{prefix}bet.if_annulled.payer must be {bet['yes']!r} or "
                                    f"{bet['no']!r}")
        bet["if_annulled"] = {"payer": annulled["payer"], "stake": annulled["stake"]}
    return bet


def save(db: Database, records: list[dict[str, Any]], *,
         sources: Mapping[str, str] | None = None) -> tuple[int, int]:
    """Register records in one transaction: (added, unchanged or updated). The same id with
    another claim refuses the whole batch. With ``sources`` (name -> kind), relative claims
    whose baseline data is already stored freeze it now."""
    added = kept = 0
    registered_at = clock.now()
    new: list[str] = []
    with write(db):
        for record in records:
            where = record.get("where", "")
            current = store.get(db, record["id"])
            if current is None:
                store.insert(db, {**record, "registered_at": registered_at})
                added += 1
                new.append(record["id"])
                continue
            if record["raw"] != current["raw"] and record["claim"] != current["claim"]:
                raise RegistrationError(
                    f"{where + ': ' if where else ''}{record['id']}: already registered with "
                    f"claim {current['claim']!r}; a registered claim never changes (use a new "
                    "id, or annul the old prediction)")
            for name in ("probability", "bet", "deadline", "criteria"):
                if record.get(name) != current.get(name):
                    raise RegistrationError(
                        f"{where + ': ' if where else ''}{record['id']}: '{name}' cannot change "
                        "once registered")
            store.update_metadata(db, record["id"], record)
            kept += 1
        if new and sources is not None:
            from resolver.evaluate import freeze_baselines

            freeze_baselines(db, new, recorded_at=registered_at, sources=sources)
    return added, kept


def read_file(settings: Settings, path: Path) -> list[dict[str, Any]]:
    """Every prediction of a TOML file, checked; raises on the first problem, naming the file,
    the prediction and its line."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RegistrationError(f"{path}: cannot read: {error.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise RegistrationError(f"{path}: {len(raw):,} bytes is over the "
                                f"{MAX_FILE_BYTES:,}-byte limit of a predictions file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RegistrationError(f"{path}: not UTF-8 text (byte {error.start}); a predictions "
                                "file is TOML") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RegistrationError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise RegistrationError(f"{path}: not valid TOML: nested too deeply") from None
    entries = data.get("prediction")
    extra = set(data) - {"prediction"}
    if extra:
        raise RegistrationError(f"{path}: unknown table {sorted(extra)[0]!r}; predictions are "
                                "[[prediction]] tables")
    if not isinstance(entries, list) or not entries:
        raise RegistrationError(f"{path}: no [[prediction]] tables found")
    lines = _id_lines(text)
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise RegistrationError(f"{path} (prediction {number}): not a table; predictions "
                                    "are [[prediction]] tables")
        line = lines.get(str(entry.get("id")), None)
        where = f"{path}:{line}" if line else f"{path} (prediction {number})"
        record = build(settings, entry, where=where)
        record["where"] = where
        if record["id"] in seen:
            raise RegistrationError(f"{where}: {record['id']}: the id is used twice in the file")
        seen.add(record["id"])
        records.append(record)
    return records


def _id_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"""\s*id\s*=\s*["']([^"']+)["']""", line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines
