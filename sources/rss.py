"""News feeds (kind ``rss``), parsed by feedparser: each item is a ``Report``, not a number.

An item is keyed by its link with any language segment removed (``/zh-Hans/blog/x`` and
``/blog/x`` are one report), so translated duplicates and re-sent items are not new.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sources.base import PayloadError, Report, Snapshot

KIND = "rss"
BENCHMARKS: dict[str, dict[str, type]] = {}
_LANGUAGE = re.compile(r"^/[a-z]{2}(?:-[A-Za-z]{2,4})?(?=/)")


def parse(body: bytes, headers: Mapping[str, str] | None = None) -> Snapshot:
    import feedparser  # loaded when a feed is parsed, not by every command

    feed: Any = feedparser.parse(body, response_headers=dict(headers or {}))
    if feed.bozo and not feed.entries:
        problem = feed.get("bozo_exception")
        raise PayloadError(f"not a feed: {problem or 'unreadable'}")
    snapshot = Snapshot()
    seen: set[str] = set()
    for entry in feed.entries:
        link = str(entry.get("link") or "").strip()
        identity = link or str(entry.get("id") or "").strip()
        if not identity:
            snapshot.notes.append(f"an item without link or id was skipped: {entry.get('title')!r}")
            continue
        key = canonical(identity)
        if key in seen:
            continue  # a translation of an item already listed
        seen.add(key)
        snapshot.reports.append(Report(key=key, title=str(entry.get("title") or link).strip(),
                                       link=link, published=_published(entry)))
    if not snapshot.reports:
        raise PayloadError("the feed has no items")
    return snapshot


def canonical(link: str) -> str:
    """The link without scheme differences, language segment, query or trailing slash."""
    parts = urlsplit(link)
    path = _LANGUAGE.sub("", parts.path).rstrip("/") or "/"
    return urlunsplit(("https", parts.netloc.lower(), path, "", ""))


def _published(entry: Any) -> str | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday).isoformat()
