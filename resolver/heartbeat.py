"""The daemon's heartbeat: a small file the daemon rewrites every ``heartbeat_every`` seconds
from its own thread, read by ``resolver health`` (the container's HEALTHCHECK) and the page's
``/healthz``. A heartbeat is fresh while it is at most three intervals old."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from resolver import clock
from resolver.settings import Settings

FILE = "heartbeat.json"
MISSED_BEATS = 3  # a heartbeat older than this many intervals is stale


def path(settings: Settings) -> Path:
    return settings.state_dir / FILE


def write(settings: Settings) -> None:
    target = path(settings)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"at": clock.now(), "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(target)


def age(settings: Settings) -> float | None:
    """Seconds since the last heartbeat, or None when there is none."""
    try:
        data = json.loads(path(settings).read_text(encoding="utf-8"))
        beat = clock.parse_instant(data["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (dt.datetime.now(dt.UTC) - beat).total_seconds()


def limit(settings: Settings) -> float:
    return MISSED_BEATS * settings.heartbeat_every


def fresh(settings: Settings) -> bool:
    seconds = age(settings)
    return seconds is not None and seconds <= limit(settings)
