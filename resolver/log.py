"""Canonical log lines on stdout: one per poll, one per state change.

``event("poll", source="swe-bench", status="ok", rows=412)`` prints
``poll source=swe-bench status=ok rows=412``, or one JSON object per line with ``log_json``.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from resolver.clock import now

logger = logging.getLogger("resolver")


class _Formatter(logging.Formatter):
    def __init__(self, *, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        if self.as_json:
            return json.dumps({"ts": now(), "level": record.levelname.lower(),
                               "event": record.getMessage(), **fields}, default=str)
        parts = [record.getMessage()]
        parts += [f"{name}={_value(value)}" for name, value in fields.items() if value is not None]
        return " ".join(parts)


def _value(value: Any) -> str:
    """A value as it is, or quoted as JSON when it has a space, a quote, an ``=`` or any
    character that could end the line (untrusted text cannot forge a log line)."""
    text = str(value)
    if not text or any(c in text for c in ' "=') or not text.isprintable():
        return json.dumps(text, ensure_ascii=not text.isprintable())
    return text


def setup(*, as_json: bool = False, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_Formatter(as_json=as_json))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def event(name: str, *, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, name, extra={"fields": fields})
