"""The digest (DESIGN section 8): what happened between two digest times, rendered as Markdown
and JSON. The content of a date depends only on stored events and polls, so rendering a date
again gives the same bytes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from resolver import clock, sections
from resolver.errors import ResolverError
from resolver.render import render, summary
from resolver.schedule import fire_time_on, previous_fire
from resolver.settings import Settings
from state import chain, digests, files, health, reports
from state import predictions as store
from state.db import Database, write
from state.records import JSON, Event, Prediction, deciding_row


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ResolverError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def today(settings: Settings) -> dt.date:
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def window(settings: Settings, day: dt.date) -> tuple[str | None, str]:
    fire = fire_time_on(day, settings.digest_cron, settings.timezone)
    if fire is None:
        raise ResolverError(f"digest_cron {settings.digest_cron!r} does not fire on {day}, so "
                            "there is no digest for that date")
    before = previous_fire(day, settings.digest_cron, settings.timezone)
    return (clock.format_instant(before) if before else None), clock.format_instant(fire)


def build(db: Database, settings: Settings, day: dt.date) -> JSON:
    start, end = window(settings, day)
    low = start or ""
    kinds = settings.kinds
    resolutions, reversions, baselines, backfilled = [], [], [], []
    predictions = {p.id: p for p in store.all_(db)}
    events = store.events(db)
    then = as_of(predictions, events, end)
    for event in events:
        entry = _entry(event, predictions[event.prediction_id])
        if low <= event.at < end:
            if event.kind == "baseline":
                baselines.append(entry)
            elif event.to_status == "open":
                reversions.append(entry)
            else:
                resolutions.append(entry)
        elif event.at < low and low <= event.recorded_at < end:
            backfilled.append(entry)
    content: JSON = {
        "date": day.isoformat(),
        "window": {"from": start, "to": end},
        "generated_at": end,
        "resolutions": resolutions,
        "reversions": reversions,
        "baselines": baselines,
        "records": sections.records(db, kinds, start, end),
        "upcoming": sections.upcoming(db, kinds, end, then),
        "awaiting_judgment": [*_awaiting(then, end),
                              *sections.revised_after_resolution(db, kinds, end, then)],
        "reports": [dataclasses.asdict(r) for r in reports.first_seen_in(db, low, end)],
        "backfilled": backfilled,
        "sources": _sources(db, settings, low, end),
        "charts": sections.series(db, kinds, end, then),
        "chain": chain_head(db, day.isoformat(), end).to_json(),
    }
    named = {row["benchmark"] for row in (*content["records"],
                                          *(e["evidence"] for e in (*resolutions, *reversions,
                                                                     *baselines, *backfilled)
                                            if e["evidence"]))}
    # The unit of every benchmark the digest names: numbers for people (DESIGN section 5).
    content["units"] = {b: kinds.unit(b) for b in sorted(named) if kinds.unit(b)}
    scored = {p.id for p in then if p.probability is not None}
    if any(e["status"] == "resolved" and e["id"] in scored for e in resolutions):
        content["scores"] = sections.track_record(db, kinds, end, then)  # a scored one resolved
    content["summary"] = summary(content)
    return content


def chain_head(db: Database, date: str, end: str) -> chain.Head:
    """The event chain's head a digest shows: the one stored when it was first written, else
    the head of the log's run of events dated before the window's end (stable while later
    events are appended, so a date renders the same)."""
    return digests.chain_when_written(db, date) or chain.head_before(db, end)


def as_of(predictions: dict[str, Prediction], events: list[Event],
          end: str) -> list[Prediction]:
    """Every prediction with its lifecycle as it stood at ``end``, rebuilt from the events,
    so that a date renders the same whatever happened since."""
    then = {pid: dataclasses.replace(
        p, status="open", outcome=None, deciding=None,
        threshold=p.threshold if p.baseline is None else None)
        for pid, p in predictions.items()}
    for event in events:
        if event.at >= end:
            continue
        now, p = predictions[event.prediction_id], then[event.prediction_id]
        if event.kind == "baseline":
            p.threshold = now.threshold
        elif event.to_status is not None:
            p.status, p.outcome = event.to_status, event.outcome
            p.deciding = now.deciding if event.to_status == now.status else None
    return list(then.values())


def _entry(event: Event, p: Prediction) -> JSON:
    row = deciding_row(event.evidence)
    entry: JSON = {
        "id": p.id, "claim": p.claim, "title": p.title,
        "status": event.to_status or p.status, "from": event.from_status,
        "outcome": event.outcome, "at": event.at, "reason": event.reason,
        "by": event.by, "evidence": row.to_json() if row else None,
    }
    if p.bet and event.to_status in ("resolved", "annulled"):
        settled = p.bet.settle(event.to_status, event.outcome)
        entry["settlement"] = settled.to_json() if settled else None
    return entry


def _awaiting(predictions: list[Prediction], end: str) -> list[JSON]:
    waiting: list[JSON] = []
    for p in predictions:
        if p.manual and p.status == "open" and p.deadline:
            after = (dt.date.fromisoformat(p.deadline) + dt.timedelta(days=1)).isoformat()
            if after <= end:
                waiting.append({"id": p.id, "title": p.title,
                                "reason": f"manual claim past its deadline {p.deadline}",
                                "criteria": p.criteria})
    return waiting


def _sources(db: Database, settings: Settings, start: str, end: str) -> list[JSON]:
    result: list[JSON] = []
    for source in settings.resolved_sources().values():
        if not source.enabled:
            continue
        span = health.span(db, source.name, start, end)
        result.append({
            "name": source.name, "polls": span.polls, "failed": span.failed,
            "errors": span.errors, "rejected": span.rejected,
            "suspicious": [{"benchmark": b, "reason": r}
                           for b, r in sorted(span.suspicious.items())],
            "members_failed": [{"benchmark": b, "reason": r}
                               for b, r in sorted(span.members_failed.items())],
            "members_unknown": span.unknown,
        })
    result.extend(predictions_file_problems(db, end))
    return result


def predictions_file_problems(db: Database, end: str) -> list[JSON]:
    """Predictions files that were being skipped at ``end``, shown with source health."""
    return [{"name": f"predictions file {problem.path}", "polls": 0, "failed": 1,
             "errors": [f"skipped since {problem.since}: {problem.error}"], "rejected": [],
             "suspicious": []} for problem in files.problems(db, end)]


def digest_dir(settings: Settings) -> Path:
    return settings.state_dir / "digests"


def write_files(settings: Settings, content: JSON) -> list[Path]:
    """The digest's Markdown, HTML and JSON, then the Atom feed with an entry per date."""
    folder = digest_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in ("md", "html", "json"):
        path = folder / f"{content['date']}.{fmt}"
        _replace(path, render(content, fmt))
        paths.append(path)
    paths.append(write_feed(settings))
    return paths


def _replace(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a full disk leaves the old file and no temporary)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ResolverError(f"{path}: cannot write: {error.strerror or error}") from None
        raise


def write_feed(settings: Settings) -> Path:
    """``feed.atom``: one entry per digest written, newest first (from the JSON files, so the
    feed is rebuilt the same way whichever date was rendered last)."""
    from resolver.render import render_atom

    folder = digest_dir(settings)
    entries = []
    for path in sorted(folder.glob("????-??-??.json"), reverse=True)[:60]:
        content = json.loads(path.read_text(encoding="utf-8"))
        entries.append({"content": content, "summary": summary(content),
                        "html": render(content, "html")})
    updated = entries[0]["content"]["generated_at"] if entries else clock.now()
    base = settings.public_url or f"http://{settings.http_host}:{settings.http_port}/"
    feed = folder / "feed.atom"
    _replace(feed, render_atom(entries, base_url=base, updated=updated))
    return feed


def write_once(db: Database, settings: Settings, day: dt.date) -> bool:
    """Write the digest of ``day`` unless it was written already; True when written now."""
    content = build(db, settings, day)
    with write(db):
        if digests.is_written(db, content["date"]):
            return False
        # The head as it is now, under the write lock: what anyone who keeps this digest can
        # later hold the log to.
        head = chain.head(db)
        content["chain"] = head.to_json()
        write_files(settings, content)
        digests.mark_written(db, content["date"], window_from=content["window"]["from"],
                             window_to=content["window"]["to"], at=clock.now(), chain=head)
    return True


def due_dates(db: Database, settings: Settings, *, now: dt.datetime,
              catch_up: bool) -> list[dt.date]:
    """Dates whose digest time has passed and that are not written: today's, plus (with
    ``catch_up``) the days missed since the last written digest, at most catch_up_days. A
    store's first digest is the one for the first digest time after its first successful
    poll (DESIGN section 8): none before, so no quiet digest of a window nothing watched."""
    zone = ZoneInfo(settings.timezone)
    local_today = now.astimezone(zone).date()
    written = set(digests.written_dates(db))
    after = "" if written else health.first_success(db)
    if after is None:
        return []  # nothing polled yet
    if catch_up and written:
        last = dt.date.fromisoformat(max(written))
        span = min((local_today - last).days, settings.catch_up_days + 1)
        candidates = [local_today - dt.timedelta(days=n) for n in range(span - 1, -1, -1)]
    else:
        candidates = [local_today]  # a first start writes no past digests
    due = []
    for day in candidates:
        fire = fire_time_on(day, settings.digest_cron, settings.timezone)
        if (fire is not None and fire <= now and day.isoformat() not in written
                and clock.format_instant(fire) > after):
            due.append(day)
    return due
