"""Cron times for the digest.

``digest_cron`` is standard cron (day of week 0 or 7 = Sunday). APScheduler 3's
``CronTrigger.from_crontab`` reads 0 as Monday, so the day-of-week field is translated to
names before it reaches APScheduler.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_fields(expression: str) -> dict[str, str]:
    """The five fields of a standard cron expression, for APScheduler's CronTrigger."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(f"invalid cron expression {expression!r}: expected 5 fields "
                         "(minute hour day month day-of-week), e.g. '30 6 * * *'")
    minute, hour, day, month, day_of_week = parts
    fields = {"minute": minute, "hour": hour, "day": day, "month": month,
              "day_of_week": _day_of_week(day_of_week)}
    trigger(fields, "UTC")  # let APScheduler check the rest
    return fields


def _day_of_week(field: str) -> str:
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        spec, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if spec == "*":
            first, last = 0, 6
        elif "-" in spec:
            low, high = spec.split("-", 1)
            first, last = _day(low), _day(high)
            if last == 0 and first > 0:
                last = 7
        else:
            first = last = _day(spec)
        if step < 1 or first > last:
            raise ValueError(f"invalid day-of-week field {field!r}")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def _day(text: str) -> int:
    lowered = text.strip().lower()
    if lowered[:3] in _DAYS:
        return _DAYS.index(lowered[:3])
    if lowered.isdigit() and 0 <= int(lowered) <= 7:
        return int(lowered) % 7 if int(lowered) != 7 else 0
    raise ValueError(f"invalid day of week {text!r}")


def trigger(fields: dict[str, str], timezone: str) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger(timezone=ZoneInfo(timezone), **fields)
    except ValueError as error:
        raise ValueError(f"invalid cron expression: {error}") from None


def fire_time_on(day: dt.date, expression: str, timezone: str) -> dt.datetime | None:
    """The first time the cron fires on ``day`` (in ``timezone``), in UTC, or None."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), zone)
    cron = trigger(cron_fields(expression), timezone)
    fire: dt.datetime | None = cron.get_next_fire_time(None, start)
    if fire is None or fire.astimezone(zone).date() != day:
        return None
    return fire.astimezone(dt.UTC)


def previous_fire(day: dt.date, expression: str, timezone: str) -> dt.datetime | None:
    """The digest time of the closest earlier day on which the cron fires."""
    for back in range(1, 367):
        fire = fire_time_on(day - dt.timedelta(days=back), expression, timezone)
        if fire is not None:
            return fire
    return None
