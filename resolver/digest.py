"""The digest (DESIGN section 8): what happened between two digest times, rendered as Markdown
and JSON. The content of a date depends only on stored events and polls, so rendering a date
again gives the same bytes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from resolver import clock, progress
from resolver.errors import ResolverError
from resolver.evaluate import deciding_row
from resolver.render import render
from resolver.report import settlement
from resolver.schedule import fire_time_on, previous_fire
from resolver.settings import Settings
from state import predictions as store
from state.db import write


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


def build(db: Database, settings: Settings, day: dt.date) -> dict[str, Any]:
    start, end = window(settings, day)
    low = start or ""
    kinds = settings.source_kinds()
    resolutions, reversions, baselines, backfilled = [], [], [], []
    records = {r["id"]: r for r in store.all_(db)}
    events = store.events(db)
    as_of_end = _as_of(records, events, end)
    for event in events:
        record = records[event["prediction_id"]]
        entry = _entry(event, record)
        if low <= event["at"] < end:
            if event["kind"] == "baseline":
                baselines.append(entry)
            elif event["to_status"] == "open":
                reversions.append(entry)
            else:
                resolutions.append(entry)
        elif event["at"] < low and low <= event["recorded_at"] < end:
            backfilled.append(entry)
    content: dict[str, Any] = {
        "date": day.isoformat(),
        "window": {"from": start, "to": end},
        "generated_at": end,
        "resolutions": resolutions,
        "reversions": reversions,
        "baselines": baselines,
        "records": progress.records(db, kinds, start, end),
        "upcoming": progress.upcoming(db, kinds, end, as_of_end),
        "awaiting_judgment": [*_awaiting(as_of_end, end),
                              *progress.revised_after_resolution(db, kinds, end, as_of_end)],
        "reports": _reports(db, low, end),
        "backfilled": backfilled,
        "sources": _sources(db, settings, low, end),
        "charts": progress.series(db, kinds, end, as_of_end),
    }
    content["summary"] = summary(content)
    return content


def _as_of(records: dict[str, dict[str, Any]], events: list[dict[str, Any]],
           end: str) -> list[dict[str, Any]]:
    """Every prediction with its lifecycle as it stood at ``end``, rebuilt from the events,
    so that a date renders the same whatever happened since."""
    state = {pid: {**record, "status": "open", "outcome": None, "deciding": None,
                   "threshold": record["threshold"] if record["baseline"] is None else None}
             for pid, record in records.items()}
    for event in events:
        if event["at"] >= end:
            continue
        record = state[event["prediction_id"]]
        if event["kind"] == "baseline":
            record["threshold"] = records[event["prediction_id"]]["threshold"]
        elif event["kind"] == "status":
            record["status"], record["outcome"] = event["to_status"], event["outcome"]
            record["deciding"] = records[event["prediction_id"]]["deciding"] if \
                event["to_status"] == records[event["prediction_id"]]["status"] else None
    return list(state.values())


def _entry(event: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    row = deciding_row(event["evidence"])
    entry = {
        "id": record["id"], "claim": record["claim"], "title": record["title"],
        "status": event["to_status"] or record["status"], "from": event["from_status"],
        "outcome": event["outcome"], "at": event["at"], "reason": event["reason"],
        "by": event["by"], "evidence": row,
    }
    bet = record["bet"]
    if bet and event["to_status"] in ("resolved", "annulled"):
        entry["settlement"] = settlement(bet, event["to_status"], event["outcome"])
    return entry


def _reports(db: Database, start: str, end: str) -> list[dict[str, Any]]:
    return [
        {"source": source, "title": title, "link": link, "published": published,
         "first_seen": first_seen}
        for source, title, link, published, first_seen in db.execute(
            "SELECT source, title, link, published, first_seen FROM reports WHERE baseline = 0"
            " AND first_seen >= ? AND first_seen < ? ORDER BY first_seen, id", [start, end])
    ]


def _awaiting(records: list[dict[str, Any]], end: str) -> list[dict[str, Any]]:
    waiting = []
    for record in records:
        if record["claim"] == "manual" and record["status"] == "open" and record["deadline"]:
            after = (dt.date.fromisoformat(record["deadline"]) + dt.timedelta(days=1)).isoformat()
            if after <= end:
                waiting.append({"id": record["id"], "title": record["title"],
                                "reason": f"manual claim past its deadline {record['deadline']}",
                                "criteria": record["criteria"]})
    return waiting


def _sources(db: Database, settings: Settings, start: str, end: str) -> list[dict[str, Any]]:
    result = []
    for source in settings.resolved_sources().values():
        if not source.enabled:
            continue
        rows = db.execute(
            "SELECT status, count(*), max(at) FROM fetches WHERE source = ? AND at >= ?"
            " AND at < ? GROUP BY status", [source.name, start, end]).fetchall()
        counts = {status: (count, last) for status, count, last in rows}
        failed = counts.get("failed", (0, None))[0]
        errors = [e for (e,) in db.execute(
            "SELECT DISTINCT error FROM fetches WHERE source = ? AND status = 'failed'"
            " AND at >= ? AND at < ? ORDER BY error", [source.name, start, end])]
        rejected, suspicious = [], {}
        for items, flags in db.execute(
            "SELECT rejected, suspicious FROM fetches WHERE source = ? AND at >= ? AND at < ?"
            " AND (rejected IS NOT NULL OR suspicious IS NOT NULL) ORDER BY at, id",
            [source.name, start, end]):
            rejected.extend(json.loads(items or "[]"))
            for flag in json.loads(flags or "[]"):
                suspicious[flag["benchmark"]] = flag["reason"]
        result.append({
            "name": source.name,
            "polls": sum(c for c, _ in counts.values()),
            "failed": failed,
            "errors": errors,
            "rejected": rejected,
            "suspicious": [{"benchmark": b, "reason": r} for b, r in sorted(suspicious.items())],
        })
    result.extend(predictions_file_problems(db, end))
    return result


def predictions_file_problems(db: Database, end: str) -> list[dict[str, Any]]:
    """Predictions files that were being skipped at ``end``, shown with source health."""
    problems = []
    for path, at, error in db.execute(
        "SELECT path, at, error FROM predictions_file_checks c WHERE id = (SELECT max(id)"
        " FROM predictions_file_checks WHERE path = c.path AND at < ?) ORDER BY path", [end]):
        if error:
            problems.append({"name": f"predictions file {path}", "polls": 0, "failed": 1,
                             "errors": [f"skipped since {at}: {error}"], "rejected": [],
                             "suspicious": []})
    return problems


def digest_dir(settings: Settings) -> Path:
    return settings.state_dir / "digests"


def write_files(settings: Settings, content: dict[str, Any]) -> list[Path]:
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


def summary(content: dict[str, Any]) -> str:
    """One line for a digest: what changed, or that nothing did."""
    parts = []
    for name, one, many in (("resolutions", "resolution", "resolutions"),
                            ("reversions", "reversion", "reversions"),
                            ("records", "new record", "new records"),
                            ("reports", "new report", "new reports"),
                            ("awaiting_judgment", "awaiting judgment", "awaiting judgment")):
        count = len(content[name])
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts) if parts else "A quiet day: no prediction changed."


def written_dates(db: Database) -> list[str]:
    return [d for (d,) in db.execute("SELECT date FROM digests ORDER BY date")]


def write_once(db: Database, settings: Settings, day: dt.date) -> bool:
    """Write the digest of ``day`` unless it was written already; True when written now."""
    content = build(db, settings, day)
    with write(db):
        if db.execute("SELECT 1 FROM digests WHERE date = ?", [content["date"]]).fetchone():
            return False
        write_files(settings, content)
        db.execute(
            "INSERT INTO digests (date, window_from, window_to, written_at) VALUES (?, ?, ?, ?)",
            [content["date"], content["window"]["from"] or "", content["window"]["to"],
             clock.now()],
        )
    return True


def due_dates(db: Database, settings: Settings, *, now: dt.datetime,
              catch_up: bool) -> list[dt.date]:
    """Dates whose digest time has passed and that are not written: today's, plus (with
    ``catch_up``) the days missed since the last written digest, at most catch_up_days."""
    zone = ZoneInfo(settings.timezone)
    local_today = now.astimezone(zone).date()
    written = set(written_dates(db))
    if catch_up and not written:
        candidates = [local_today]  # a first start writes no past digests
    elif catch_up:
        last = dt.date.fromisoformat(max(written))
        span = min((local_today - last).days, settings.catch_up_days + 1)
        candidates = [local_today - dt.timedelta(days=n) for n in range(span - 1, -1, -1)]
    else:
        candidates = [local_today]
    due = []
    for day in candidates:
        fire = fire_time_on(day, settings.digest_cron, settings.timezone)
        if fire is not None and fire <= now and day.isoformat() not in written:
            due.append(day)
    return due
