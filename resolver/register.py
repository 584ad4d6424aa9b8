"""Registering predictions: one from the command line, or a TOML file, all or nothing.

A prediction's id, normalized claim, probability, bet and timing values never change; title,
author, quote and url may be updated by registering the same prediction again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from resolver import claims, clock, periods
from resolver.claims import SourceKinds
from resolver.errors import ClaimError, RegistrationError
from resolver.lifecycle import due
from resolver.settings import Settings
from state import predictions as store
from state.db import Database, write
from state.records import MANUAL, Bet, Prediction

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_WEB_LINK = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
MAX_FILE_BYTES = 16 * 1024 * 1024
# What a person may not change by registering again (DESIGN section 4); title, quote and url
# may change. Timing values are kept as captured (defaults may have changed since).
IMMUTABLE = ("probability", "author", "made", "bet", "deadline", "criteria", "notify")
_FIELDS = {"id", "claim", "title", "author", "quote", "url", "probability", "made", "late_days",
           "confirm_hours", "confirm_polls", "bet", "deadline", "criteria", "notify"}


class Registration(NamedTuple):
    prediction: Prediction
    where: str  # "FILE:LINE" for an entry of a predictions file, else ""


def build(settings: Settings, entry: Mapping[str, Any], *, where: str = "") -> Prediction:
    """A prediction from one entry (a ``[[prediction]]`` table or the CLI options), checked."""
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
        raise RegistrationError(f"{prefix}'claim' is required (a claim, or \"{MANUAL}\")")
    text: dict[str, str | None] = {}
    for name in ("title", "author", "quote", "url", "criteria"):
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise RegistrationError(f"{prefix}'{name}' must be a string")
        text[name] = value
    url = text["url"]
    if url is not None and not _WEB_LINK.match(url):
        raise RegistrationError(f"{prefix}'url' must be an http: or https: link "
                                f"(got {url[:80]!r})")
    prediction = Prediction(
        id=prediction_id, claim=MANUAL, raw=raw.strip(), source=None, benchmark=None,
        late_days=None, confirm_hours=None, confirm_polls=None, deadline=None,
        criteria=text["criteria"], probability=_probability(entry.get("probability"), prefix),
        bet=_bet(entry.get("bet"), prefix), title=text["title"], author=text["author"], url=url,
        quote=text["quote"], registered_at="", made=_made(entry.get("made"), prefix),
        notify=_notify(entry.get("notify"), prefix))
    if prediction.raw == MANUAL:
        return _manual(prediction, entry, prefix)
    if entry.get("deadline") is not None:
        raise RegistrationError(f"{prefix}'deadline' is only for manual claims; a claim's "
                                "window gives its deadline")
    try:
        claim = claims.parse(raw, settings.kinds)
    except ClaimError as error:
        raise RegistrationError(f"{prefix}{error}") from None
    source = settings.resolved_sources()[claim.source]
    late_days = _timing(entry, "late_days", source.late_days, prefix)
    return dataclasses.replace(
        prediction, claim=claim.normalized, source=claim.source, benchmark=claim.benchmark,
        late_days=late_days, due=due(claim, late_days), op=claim.op,
        threshold=claim.threshold, partition=claim.partition,
        confirm_hours=float(_timing(entry, "confirm_hours", source.confirm_hours, prefix)),
        confirm_polls=_timing(entry, "confirm_polls", source.confirm_polls, prefix),
    )


def _manual(prediction: Prediction, entry: Mapping[str, Any], prefix: str) -> Prediction:
    deadline = entry.get("deadline")
    text = deadline.isoformat() if isinstance(deadline, dt.date) else deadline
    period = periods.parse_period(str(text)) if text is not None else None
    if period is None:
        problem = periods.date_problem(str(text)) if text is not None else "no date given"
        raise RegistrationError(f"{prefix}a manual claim needs 'deadline' (YYYY-MM-DD, YYYY-MM, "
                                f"YYYY-Qn, YYYY-H1/H2 or YYYY): {problem}")
    if not prediction.criteria:
        raise RegistrationError(f"{prefix}a manual claim needs 'criteria': what a person checks")
    return dataclasses.replace(prediction, deadline=period.last_day.isoformat())


# The largest value of each timing setting: ten years (DESIGN section 4).
TIMING_LIMITS = {"late_days": 3653, "confirm_hours": 87660, "confirm_polls": 10_000}


def _timing(entry: Mapping[str, Any], name: str, default: float, prefix: str) -> int:
    value = entry.get(name)
    if value is None:
        return int(default)
    limit = TIMING_LIMITS[name]
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value != int(value) or not 0 <= value <= limit):
        raise RegistrationError(f"{prefix}'{name}' must be a whole number from 0 to {limit:,}"
                                f" (got {value!r})")
    return int(value)


def _made(value: Any, prefix: str) -> str | None:
    """``made``: the day the claim was made public (a TOML date or YYYY-MM-DD)."""
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, dt.date) else value
    try:
        day = dt.date.fromisoformat(text[:10]) if isinstance(text, str) and len(text) == 10 \
            else None
    except ValueError:
        day = None
    if day is None or not periods.FIRST_YEAR <= day.year <= periods.LAST_YEAR:
        raise RegistrationError(f"{prefix}'made' must be a date (YYYY-MM-DD) in "
                                f"{periods.FIRST_YEAR}-{periods.LAST_YEAR}, got {value!r}")
    return day.isoformat()


def _notify(value: Any, prefix: str) -> tuple[str, ...]:
    """``notify``: Apprise URLs told of this prediction's changes only (DESIGN section 13)."""
    if value is None:
        return ()
    if (not isinstance(value, list) or len(value) > 20
            or not all(isinstance(url, str) and url.strip() for url in value)):
        raise RegistrationError(f"{prefix}'notify' must be a list of Apprise URLs (strings), "
                                f"at most 20 (got {str(value)[:80]!r})")
    return tuple(url.strip() for url in value)


def _probability(value: Any, prefix: str) -> float | None:
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not 0 <= value <= 1):
        raise RegistrationError(f"{prefix}'probability' must be a number from 0 to 1 "
                                f"(got {value!r})")
    return float(value)


def _bet(value: Any, prefix: str) -> Bet | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RegistrationError(f"{prefix}'bet' must be a table with yes, no and stake")
    parts: dict[str, str] = {}
    for name in ("yes", "no", "stake"):
        if not isinstance(value.get(name), str) or not value[name].strip():
            raise RegistrationError(f"{prefix}bet.{name} is required (a string)")
        parts[name] = value[name].strip()
    extra = set(value) - {"yes", "no", "stake", "if_annulled"}
    if extra:
        raise RegistrationError(f"{prefix}bet has unknown field {sorted(extra)[0]!r}")
    bet = Bet(parts["yes"], parts["no"], parts["stake"])
    annulled = value.get("if_annulled")
    if annulled is None:
        return bet
    if not isinstance(annulled, Mapping) or not all(
        isinstance(annulled.get(k), str) for k in ("payer", "stake")
    ):
        raise RegistrationError(f"{prefix}bet.if_annulled needs payer and stake (strings)")
    if annulled["payer"] not in (bet.yes, bet.no):
        raise RegistrationError(f"{prefix}bet.if_annulled.payer must be {bet.yes!r} or "
                                f"{bet.no!r}")
    return dataclasses.replace(bet, annulled_payer=annulled["payer"],
                               annulled_stake=annulled["stake"])


def save(db: Database, registrations: list[Registration], *,
         sources: SourceKinds | None = None) -> tuple[int, int]:
    """Register in one transaction: (added, unchanged or updated). The same id with another
    claim refuses the whole batch. With ``sources``, relative claims whose baseline data is
    already stored freeze it now."""
    added = kept = 0
    registered_at = clock.now()
    new: list[str] = []
    with write(db):
        for prediction, where in registrations:
            at = f"{where}: " if where else ""
            current = store.get(db, prediction.id)
            if current is None:
                store.insert(db, dataclasses.replace(prediction, registered_at=registered_at))
                added += 1
                new.append(prediction.id)
                continue
            if prediction.raw != current.raw and prediction.claim != current.claim:
                raise RegistrationError(
                    f"{at}{prediction.id}: already registered with claim {current.claim!r}; a "
                    "registered claim never changes (use a new id, or annul the old "
                    "prediction)")
            for name in IMMUTABLE:
                if getattr(prediction, name) != getattr(current, name):
                    raise RegistrationError(
                        f"{at}{prediction.id}: '{name}' cannot change once registered")
            store.update_metadata(db, prediction)
            kept += 1
        if new and sources is not None:
            from resolver.lifecycle import freeze_baselines

            freeze_baselines(db, new, recorded_at=registered_at, sources=sources)
    return added, kept


def read_file(settings: Settings, path: Path) -> list[Registration]:
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
    registrations: list[Registration] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise RegistrationError(f"{path} (prediction {number}): not a table; predictions "
                                    "are [[prediction]] tables")
        line = lines.get(str(entry.get("id")), None)
        where = f"{path}:{line}" if line else f"{path} (prediction {number})"
        prediction = build(settings, entry, where=where)
        if prediction.id in seen:
            raise RegistrationError(f"{where}: {prediction.id}: the id is used twice in the file")
        seen.add(prediction.id)
        registrations.append(Registration(prediction, where))
    return registrations


def _id_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"""\s*id\s*=\s*["']([^"']+)["']""", line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines
