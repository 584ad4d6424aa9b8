"""What the digest shows besides events: new state-of-the-art records, upcoming deadlines with
the distance still to go, resolved predictions whose evidence changed afterwards, and the
state of the art over time for charts. Everything is computed as of given instants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from resolver import clock
from resolver.evaluate import SourceView, _parse, qualifying_version
from state.rows import Row, rows_as_of


def _before(instant: str) -> str:
    """The last instant before ``instant`` (times are kept to the second)."""
    return clock.add_hours(instant, -1 / 3600)


def _live_best(rows: list[Row]) -> float | None:
    values = [row.latest.value for row in rows
              if not row.retracted and row.latest.result_date is not None]
    return max(values) if values else None


def records(db: Database, sources: Mapping[str, str], start: str | None,
            end: str) -> list[dict[str, Any]]:
    """Per source and benchmark, a dated row first seen in [start, end) that beats every live
    dated row seen before ``start`` (an undated row never qualifies, so it sets no record)."""
    found = []
    for source in sources:
        after = rows_as_of(db, source, _before(end))
        before = rows_as_of(db, source, _before(start)) if start else {}
        for benchmark, rows in sorted(after.items()):
            previous = _live_best(before.get(benchmark, []))
            new = [row for row in rows if not row.retracted
                   and row.latest.result_date is not None
                   and (start is None or row.latest.first_seen >= start)
                   and (previous is None or row.latest.value > previous)]
            if not new:
                continue
            best = max(new, key=lambda row: (row.latest.value, row.key))
            found.append({"source": source, "benchmark": benchmark, "key": best.key,
                          "subject": best.latest.subject, "value": best.latest.value,
                          "previous": previous, "result_date": best.latest.result_date,
                          "first_seen": best.latest.first_seen,
                          "snapshot_sha256": best.latest.sha256})
    return found


class _Views:
    def __init__(self, db: Database, at: str) -> None:
        self.db, self.at = db, at
        self.views: dict[str, SourceView] = {}

    def __call__(self, source: str) -> SourceView:
        if source not in self.views:
            self.views[source] = SourceView(self.db, source, self.at)
        return self.views[source]


def upcoming(db: Database, sources: Mapping[str, str], end: str,
             predictions: list[dict[str, Any]], days: int = 30) -> list[dict[str, Any]]:
    """Open claims whose window closes within ``days`` after ``end``, with the current best."""
    today = dt.date.fromisoformat(end[:10])
    horizon = today + dt.timedelta(days=days)
    views = _Views(db, end)
    kinds = tuple(sorted(sources.items()))
    result = []
    for record in predictions:
        if record["status"] != "open":
            continue
        if record["claim"] == "manual":
            if record["deadline"] and today <= dt.date.fromisoformat(record["deadline"]) <= horizon:
                result.append({"id": record["id"], "title": record["title"],
                               "claim": record["claim"], "deadline": record["deadline"],
                               "best": None, "threshold": None, "distance": None})
            continue
        claim = _parse(record["claim"], kinds)
        last_day = claim.end - dt.timedelta(days=1)
        if not today <= last_day <= horizon:
            continue
        best = views(claim.source).best(claim, claim.start, claim.end)
        threshold = claim.threshold if claim.threshold is not None else record["threshold"]
        distance = (threshold - best.value if best is not None and threshold is not None
                    else None)
        result.append({
            "id": record["id"], "title": record["title"], "claim": record["claim"],
            "deadline": last_day.isoformat(), "threshold": threshold, "unit": claim.unit,
            "best": None if best is None else {"value": best.value,
                                               "subject": best.version.subject,
                                               "key": best.row.key},
            "distance": distance,
        })
    return sorted(result, key=lambda item: (item["deadline"], item["id"]))


def revised_after_resolution(db: Database, sources: Mapping[str, str], end: str,
                             predictions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resolved predictions whose evidence no longer supports their outcome: the deciding
    row was retracted, revised or re-dated so that it no longer qualifies or crosses, or (for
    a late outcome) a crossing row surfaced. The outcome is sticky; a person decides."""
    kinds = tuple(sorted(sources.items()))
    views = _Views(db, end)
    result = []
    for record in predictions:
        deciding = record["deciding"] or {}
        if record["status"] != "resolved" or record["claim"] == "manual" or not deciding:
            continue
        claim = _parse(record["claim"], kinds)
        threshold = claim.threshold if claim.threshold is not None else record["threshold"]
        if threshold is None:
            continue
        view = views(claim.source)
        if deciding.get("late"):
            best = view.best(claim, claim.start, claim.end)
            if best is None or not claim.crosses(best.value, threshold):
                continue
            why = (f"a crossing row surfaced later: {best.value:g} by {best.version.subject} "
                   f"({best.row.key})")
        else:
            row = view.by_id.get(deciding.get("observation_id", -1))
            version = qualifying_version(claim, row, claim.start, claim.end) if row else None
            if version is not None and claim.crosses(version.value, threshold):
                continue
            if row is None or row.retracted:
                why = f"its deciding row {deciding.get('key')} was retracted"
            else:
                why = (f"its deciding row {row.key} no longer crosses or qualifies (now "
                       f"{row.latest.value:g}, dated {row.latest.result_date})")
        result.append({"id": record["id"], "title": record["title"],
                       "reason": f"resolved {record['outcome']}, but {why}"})
    return result


def series(db: Database, sources: Mapping[str, str], end: str,
           predictions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (source, benchmark) with open claims: the state of the art over time (each new
    maximum by result date, among rows live at ``end``) and the claims' thresholds."""
    kinds = tuple(sorted(sources.items()))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in predictions:
        if record["claim"] == "manual" or record["status"] not in ("open", "provisional"):
            continue
        claim = _parse(record["claim"], kinds)
        threshold = claim.threshold if claim.threshold is not None else record["threshold"]
        groups.setdefault((claim.source, claim.benchmark), []).append({
            "id": record["id"], "threshold": threshold, "op": claim.op, "unit": claim.unit,
            "start": claim.start.isoformat() if claim.start else None,
            "end": (claim.end - dt.timedelta(days=1)).isoformat()})
    charts = []
    views = _Views(db, end)
    for (source, benchmark), open_claims in sorted(groups.items()):
        rows = sorted((row for row in views(source).rows.get(benchmark, [])
                       if not row.retracted and row.latest.result_date),
                      key=lambda row: (row.latest.result_date or "", -row.latest.value))
        points: list[tuple[str, float, str]] = []
        for row in rows:
            if not points or row.latest.value > points[-1][1]:
                points.append((row.latest.result_date or "", row.latest.value,
                               row.latest.subject))
        charts.append({"source": source, "benchmark": benchmark,
                       "unit": open_claims[0]["unit"], "points": points,
                       "claims": open_claims[:8]})
    return charts
