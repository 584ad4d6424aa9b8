"""Notifications through Apprise: each state change at once (at least once, DESIGN section 13),
each written digest (at least once), and source-health alerts, separate from outcomes and sent
once per change of a source's health."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from resolver import clock, log
from resolver.render import markdown_text
from resolver.settings import Settings
from state import alerts, change_alerts, digests, health
from state import predictions as store
from state.db import Database
from state.records import Event, Prediction


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


def pending_changes(db: Database, settings: Settings) -> int:
    """Alert every state change not alerted yet: to the ``notify`` URLs, and to the changed
    prediction's own URLs. Each is marked once the notifier accepted it, so what was not
    accepted goes out at the next call (a restart too). Returns how many alerts went out."""
    sent = 0
    everyone = settings.notify if settings.notify_changes else []
    changes = change_alerts.unsent(db, "notify")
    if not everyone:  # nobody to tell: a URL added later does not receive the archive
        change_alerts.mark(db, [e.id for e in changes], "notify", at=clock.now(),
                           delivered=False)
        changes = []
    for event in changes:
        if not _alert(db, settings, event, everyone, "notify"):
            break  # in order: the rest waits for the next call
        sent += 1
    nobody: list[int] = []
    failed: set[str] = set()
    for event in change_alerts.unsent(db, "own"):
        p = store.get(db, event.prediction_id)
        own = list(p.notify) if p is not None and settings.notify_changes else []
        if not own:
            nobody.append(event.id)
        elif event.prediction_id not in failed:
            if _alert(db, settings, event, own, "own"):
                sent += 1
            else:
                failed.add(event.prediction_id)  # its later changes wait, in order
    change_alerts.mark(db, nobody, "own", at=clock.now(), delivered=False)
    return sent


def _alert(db: Database, settings: Settings, event: Event, urls: list[str],
           audience: change_alerts.Audience) -> bool:
    p = store.get(db, event.prediction_id)
    assert p is not None
    title, body = change_message(settings, p, event)
    if not send(urls, title=title, body=body):
        log.event("alert", level=logging.WARNING, id=p.id, to=audience, error="not delivered")
        return False
    change_alerts.mark(db, [event.id], audience, at=clock.now(), delivered=True)
    log.event("alert", id=p.id, change=f"{event.from_status}->{event.to_status}", to=audience)
    return True


def change_message(settings: Settings, p: Prediction, event: Event) -> tuple[str, str]:
    """An alert's title and Markdown body: the id, title, normalized claim, from -> to, the
    outcome, why, and the prediction's page."""
    base = settings.public_url.rstrip("/") if settings.public_url else ""
    change = f"{event.from_status or 'new'} -> {event.to_status}"
    lines = [f"**{markdown_text(p.id)}**: {markdown_text(p.title or p.claim)}",
             f"claim: {markdown_text(p.claim)}",
             f"{change}, outcome: {event.outcome or 'none'}",
             f"why: {markdown_text(event.reason)}",
             f"{base}/p/{p.id}.html"]
    return f"resolver: {p.id} {change}", "\n\n".join(lines) + "\n"


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


@dataclass(frozen=True)
class HealthChange:
    source: str
    state: str  # failing | suspicious | stale | ok
    message: str


def health_changes(db: Database, settings: Settings) -> list[HealthChange]:
    """Alert on each source whose health changed since it was last announced."""
    from resolver.report import is_stale

    changes: list[HealthChange] = []
    if not settings.notify:
        return changes
    now = clock.now()
    for source in settings.resolved_sources().values():
        recorded = health.of(db, source.name)
        if not source.enabled or (recorded.last_success is None and not recorded.last_failure):
            continue
        state, message = _health(source.name, recorded, stale=is_stale(source, recorded, now))
        known = alerts.last(db, source.name)
        if known is not None and known[0] == state and known[1] is not None:
            continue
        if known is None and state == "ok":
            _remember(db, source.name, state, message, notified=True)
            continue
        # Sent as Markdown, and the message quotes sources (errors, reasons): one escaped line.
        delivered = send(settings.notify, title=f"resolver: source {source.name} {state}",
                         body=markdown_text(message))
        _remember(db, source.name, state, message, notified=delivered)
        log.event("source-health", source=source.name, state=state, notified=delivered)
        changes.append(HealthChange(source.name, state, message))
    return changes


def _health(name: str, recorded: health.Health, *, stale: bool) -> tuple[str, str]:
    if recorded.failing_since:
        return "failing", f"{name} is failing since {recorded.failing_since}: {recorded.last_error}"
    if recorded.suspicious:
        flags = "; ".join(f"{f.benchmark}: {f.reason}" for f in recorded.suspicious)
        return "suspicious", f"{name} looks suspicious (nothing retracted yet): {flags}"
    if stale:
        return "stale", f"{name} has had no successful poll since {recorded.last_success}"
    return "ok", f"{name} is healthy again (last success {recorded.last_success})"


def _remember(db: Database, source: str, state: str, message: str, *, notified: bool) -> None:
    alerts.remember(db, source, state, message, at=clock.now(), notified=notified)
