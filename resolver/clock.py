"""Time in resolver: UTC instants stored as ``YYYY-MM-DDTHH:MM:SSZ`` text.

That form sorts as text, so the database compares times with plain ``<=``, and a bare date
``YYYY-MM-DD`` compares correctly against it as that day's 00:00 UTC boundary.
Only the edges read the clock (``now``); everything else takes time as a parameter.
"""

from __future__ import annotations

import datetime as dt

from resolver.errors import ResolverError

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
FIRST_YEAR, LAST_YEAR = 1990, 2199  # the years a --at may name (DESIGN section 5)


def now() -> str:
    return format_instant(dt.datetime.now(dt.UTC))


def format_instant(instant: dt.datetime) -> str:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC).strftime(FORMAT)


def parse_instant(text: str) -> dt.datetime:
    if len(text) != 20 or text[-1] != "Z":
        raise ValueError(f"not an instant in {FORMAT}: {text!r}")
    return dt.datetime.fromisoformat(text)


def parse_timestamp(text: str) -> str:
    """An ISO 8601 timestamp from a user: without an offset it is UTC; a bare date is its
    00:00 UTC."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), dt.UTC)
        else:
            value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
    except OverflowError:
        value = dt.datetime.max.replace(tzinfo=dt.UTC)  # refused below, as out of range
    except ValueError:
        raise ResolverError(
            f"not an ISO 8601 timestamp: {text!r} (try 2025-07-31 or 2025-07-31T16:33:00Z)"
        ) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ResolverError(f"the timestamp {text!r} is outside the years "
                            f"{FIRST_YEAR}-{LAST_YEAR}")
    return format_instant(value)


def add_hours(instant: str, hours: float) -> str:
    return format_instant(parse_instant(instant) + dt.timedelta(hours=hours))


def add_days(day: str, days: int) -> str:
    """A date (``YYYY-MM-DD``) plus ``days``, as an instant at 00:00 UTC."""
    start = dt.datetime.combine(dt.date.fromisoformat(day[:10]), dt.time(), dt.UTC)
    return format_instant(start + dt.timedelta(days=days))
