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

from resolver import clock
from resolver.errors import ResolverError
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
    resolutions, reversions, baselines, backfilled = [], [], [], []
    records = {r["id"]: r for r in store.all_(db)}
    for event in store.events(db):
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
    return {
        "date": day.isoformat(),
        "window": {"from": start, "to": end},
        "generated_at": end,
        "resolutions": resolutions,
        "reversions": reversions,
        "baselines": baselines,
        "records": [],
        "upcoming": [],
        "awaiting_judgment": _awaiting(records, end),
        "reports": _reports(db, low, end),
        "backfilled": backfilled,
        "sources": _sources(db, settings, low, end),
    }


def _entry(event: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    proof = event["evidence"] or {}
    row = proof.get("row") if "poll" in proof else (proof or None)
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


def _awaiting(records: dict[str, dict[str, Any]], end: str) -> list[dict[str, Any]]:
    waiting = []
    for record in records.values():
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
    return result


def render(content: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(content, indent=2, sort_keys=True) + "\n"
    return render_markdown(content)


def _md(text: Any) -> str:
    """Leaderboard text is untrusted: escape what could start HTML, a link, code, emphasis or
    a table cell in Markdown. (Intraword underscores, as in row keys, are literal.)"""
    out = str(text)
    for char in "\\`*[]<|":
        out = out.replace(char, "\\" + char)
    return out


def render_markdown(content: dict[str, Any]) -> str:
    lines = [f"# resolver digest, {content['date']}", ""]
    span = content["window"]
    lines.append(f"Events from {span['from'] or 'the beginning'} to {span['to']}.")
    lines.append("")
    sections = (("Resolutions", content["resolutions"]), ("Reversions", content["reversions"]),
                ("Baselines frozen", content["baselines"]),
                ("Backfilled", content["backfilled"]))
    quiet = True
    for title, entries in sections:
        if not entries:
            continue
        quiet = False
        lines += [f"## {title}", ""]
        for entry in entries:
            outcome = f" **{entry['outcome']}**" if entry["outcome"] else ""
            lines.append(f"- `{entry['id']}` {entry['from'] or ''} → {entry['status']}{outcome}"
                         f" at {entry['at']}: {_md(entry['reason'])}")
            row = entry.get("evidence")
            if row:
                lines.append(f"  - evidence: {_md(row['subject'])} {row['value']:g} "
                             f"({_md(row['key'])}, dated {row['result_date']}), snapshot "
                             f"`{row['snapshot_sha256']}`")
            settlement = entry.get("settlement")
            if settlement:
                lines.append(f"  - bet: {_md(settlement['payer'])} owes "
                             f"{_md(settlement['payee'])} {_md(settlement['stake'])}")
        lines.append("")
    if content["reports"]:
        quiet = False
        lines += ["## New reports", ""]
        for report in content["reports"]:
            lines.append(f"- [{_md(report['title'])}](<{report['link'].replace('>', '%3E')}>)"
                         f" ({report['published'] or 'undated'})")
        lines.append("")
    if content["awaiting_judgment"]:
        quiet = False
        lines += ["## Awaiting judgment", ""]
        for item in content["awaiting_judgment"]:
            lines.append(f"- `{item['id']}`: {_md(item['reason'])}")
        lines.append("")
    problems = [s for s in content["sources"] if s["failed"] or s["rejected"] or s["suspicious"]]
    if problems:
        lines += ["## Source health", ""]
        for item in problems:
            if item["failed"]:
                lines.append(f"- {item['name']}: {item['failed']} of {item['polls']} polls "
                             f"failed ({_md('; '.join(item['errors']))})")
            for flag in item["suspicious"]:
                lines.append(f"- {item['name']}: {flag['benchmark']} looks suspicious "
                             f"({_md(flag['reason'])}); nothing retracted until three polls "
                             "agree")
            for rejection in item["rejected"]:
                lines.append(f"- {item['name']}: rejected {_md(rejection['subject'])} "
                             f"({_md(rejection['key'])}): {_md(rejection['reason'])}")
        lines.append("")
    if quiet:
        lines += ["A quiet day: no prediction changed.", ""]
    return "\n".join(lines)


def digest_dir(settings: Settings) -> Path:
    return settings.state_dir / "digests"


def write_files(settings: Settings, content: dict[str, Any]) -> list[Path]:
    folder = digest_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, suffix in (("md", ".md"), ("json", ".json")):
        path = folder / f"{content['date']}{suffix}"
        tmp = path.with_suffix(suffix + ".tmp")
        tmp.write_text(render(content, fmt), encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths


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
