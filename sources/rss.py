"""News feeds (kind ``rss``), parsed by feedparser: each item is a ``Report``, not a number.

An item is keyed by its link with any language segment removed (``/zh-Hans/blog/x`` and
``/blog/x`` are one report), so translated duplicates and re-sent items are not new.

Untrusted input: a link is kept only when it is http(s) (``javascript:`` and ``data:`` links
become ""), and XML entities are never resolved: feedparser drops the document type's entity
declarations before parsing, so neither an internal "billion laughs" nor an external
``file:///etc/passwd`` entity expands (tests/faults/test_payloads.py checks both).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sources.base import (
    MAX_BYTES,
    PayloadError,
    Report,
    Snapshot,
    check_size,
    result_date,
    safe_link,
)
from sources.kinds import FixedKind

KIND = "rss"
_LANGUAGE = re.compile(r"^/[a-z]{2}(?:-[A-Za-z]{2,4})?(?=/)")


def parse(body: bytes, headers: Mapping[str, str] | None = None, *,
          max_bytes: int = MAX_BYTES) -> Snapshot:
    import feedparser  # loaded when a feed is parsed, not by every command

    check_size(body, max_bytes)
    # Bytes, always: given a str, feedparser would treat it as a URL or a file name to open.
    feed: Any = feedparser.parse(bytes(body), response_headers=dict(headers or {}))
    if feed.bozo and not feed.entries:
        problem = feed.get("bozo_exception")
        raise PayloadError(f"not a feed: {_first_line(problem) if problem else 'unreadable'}")
    snapshot = Snapshot()
    seen: set[str] = set()
    for entry in feed.entries:
        link = safe_link(entry.get("link"))
        identity = link or _plain(entry.get("id"))
        if not identity:
            snapshot.skip("", "an item without an http(s) link or an id was skipped: "
                                  f"{_plain(entry.get('title'))[:80]!r}")
            continue
        key = canonical(identity)
        if key in seen:
            continue  # a translation of an item already listed
        seen.add(key)
        snapshot.reports.append(Report(key=key, title=_plain(entry.get("title")) or link,
                                       link=link, published=_published(entry)))
    if not snapshot.reports:
        raise PayloadError("the feed has no items")
    return snapshot


SOURCE_KIND = FixedKind(KIND, (), parse)  # reports, no numbers


def canonical(link: str) -> str:
    """The link without scheme differences, language segment, query or trailing slash; an
    id that is not a URL stays as it is."""
    try:
        parts = urlsplit(link)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return link
    path = _LANGUAGE.sub("", parts.path).rstrip("/") or "/"
    return urlunsplit(("https", parts.netloc.lower(), path, "", ""))


def _plain(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else ""


def _published(entry: Any) -> str | None:
    """feedparser gives the time already in UTC."""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return result_date(dt.datetime(*parsed[:6]))  # noqa: DTZ001 (UTC, from feedparser)
    except (ValueError, TypeError, OverflowError):  # year 0, a 31st of February
        return None


def _first_line(error: Any) -> str:
    message = str(error).strip()
    return message.splitlines()[0][:200] if message else type(error).__name__
