"""Notifications through Apprise: each written digest (at least once), and source-health
alerts, separate from outcomes and sent once per change of a source's health."""

from __future__ import annotations

import logging
from typing import Any

from sqlite_utils import Database

from resolver import clock, log
from resolver.render import markdown_text
from resolver.settings import Settings
from state import alerts, digests


def send(urls: list[str], *, title: str, body: str) -> bool:
    """Send to every URL; True when all of them took it."""
    import apprise

    if not urls:
        return True
    sender = apprise.Apprise()
    for url in urls:
        if not sender.add(url):
            log.event("notify", level=logging.WARNING, error=f"not an Apprise URL: {url}")
            return False
    return bool(sender.notify(title=title, body=body,
                              body_format=apprise.NotifyFormat.MARKDOWN))


def pending_digests(db: Database, settings: Settings) -> int:
    """Send every written digest not notified yet, oldest first; returns how many went out."""
    from resolver.digest import digest_dir

    if not settings.notify:
        # Nothing to send to: mark them done, so that a URL added later does not receive the
        # whole archive.
        digests.mark_notified(db, at=clock.now())
        return 0
    sent = 0
    for date in digests.unnotified(db):
        path = digest_dir(settings) / f"{date}.md"
        body = path.read_text(encoding="utf-8") if path.exists() else f"digest {date}"
        if settings.public_url:
            body += f"\n\n{settings.public_url.rstrip('/')}/digests/{date}.html\n"
        if not send(settings.notify, title=f"resolver digest {date}", body=body):
            log.event("notify", level=logging.WARNING, digest=date, error="not delivered")
            break
        digests.mark_notified(db, at=clock.now(), date=date)
        log.event("notify", digest=date)
        sent += 1
    return sent


def health_changes(db: Database, settings: Settings) -> list[dict[str, Any]]:
    """Alert on each source whose health changed since it was last announced."""
    from resolver import report

    changes: list[dict[str, Any]] = []
    if not settings.notify:
        return changes
    for item in report.sources(db, settings):
        if not item["enabled"] or (item["last_success"] is None and not item["last_failure"]):
            continue
        state, message = _health(item)
        known = alerts.last(db, item["name"])
        if known is not None and known[0] == state and known[1] is not None:
            continue
        if known is None and state == "ok":
            _remember(db, item["name"], state, message, notified=True)
            continue
        # Sent as Markdown, and the message quotes sources (errors, reasons): one escaped line.
        delivered = send(settings.notify, title=f"resolver: source {item['name']} {state}",
                         body=markdown_text(message))
        _remember(db, item["name"], state, message, notified=delivered)
        log.event("source-health", source=item["name"], state=state, notified=delivered)
        changes.append({"source": item["name"], "state": state, "message": message})
    return changes


def _health(item: dict[str, Any]) -> tuple[str, str]:
    name = item["name"]
    if item["failing_since"]:
        return "failing", f"{name} is failing since {item['failing_since']}: {item['last_error']}"
    if item["suspicious"]:
        flags = "; ".join(f"{f['benchmark']}: {f['reason']}" for f in item["suspicious"])
        return "suspicious", f"{name} looks suspicious (nothing retracted yet): {flags}"
    if item["stale"]:
        return "stale", f"{name} has had no successful poll since {item['last_success']}"
    return "ok", f"{name} is healthy again (last success {item['last_success']})"


def _remember(db: Database, source: str, state: str, message: str, *, notified: bool) -> None:
    alerts.remember(db, source, state, message, at=clock.now(), notified=notified)
