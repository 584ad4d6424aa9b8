"""The digest's sections besides its events: new state-of-the-art records, upcoming deadlines
with the distance still to go, resolved predictions whose evidence no longer holds, and the
state of the art over time for charts. Each is computed as of given instants, from
predictions as they stood then (``digest.as_of``), and returned as the digest's JSON."""

from __future__ import annotations

import datetime as dt

from resolver import clock
from resolver.claims import SourceKinds, parse_cached
from resolver.sota import Views, still_holds
from resolver.trend import Trends
from state.db import Database
from state.records import JSON, Prediction, RowDecision
from state.rows import Row, rows_as_of


def _before(instant: str) -> str:
    """The last instant before ``instant`` (times are kept to the second)."""
    return clock.add_hours(instant, -1 / 3600)


def _live_best(rows: list[Row]) -> float | None:
    values = [row.latest.value for row in rows
              if not row.retracted and row.latest.result_date is not None]
    return max(values) if values else None


def records(db: Database, sources: SourceKinds, start: str | None, end: str) -> list[JSON]:
    """Per source and benchmark, a dated row first seen in [start, end) that beats every live
    dated row seen before ``start`` (an undated row never qualifies, so it sets no record)."""
    found = []
    for source in sources.names():
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


def upcoming(db: Database, sources: SourceKinds, end: str, predictions: list[Prediction],
             days: int = 30) -> list[JSON]:
    """Open claims whose window closes within ``days`` after ``end``, with the current best."""
    today = dt.date.fromisoformat(end[:10])
    horizon = today + dt.timedelta(days=days)
    views = Views(db, end)
    trends = Trends(views)
    result: list[JSON] = []
    for p in predictions:
        if p.status != "open":
            continue
        if p.manual:
            if p.deadline and today <= dt.date.fromisoformat(p.deadline) <= horizon:
                result.append({"id": p.id, "title": p.title, "claim": p.claim,
                               "deadline": p.deadline, "best": None, "threshold": None,
                               "distance": None, "projection": None})
            continue
        claim = parse_cached(p.claim, sources)
        if not today <= claim.last_day <= horizon:
            continue
        best = views(claim.source).best_in_window(claim)
        distance = (p.threshold - best.value if best is not None and p.threshold is not None
                    else None)
        result.append({
            "id": p.id, "title": p.title, "claim": p.claim,
            "deadline": claim.last_day.isoformat(), "threshold": p.threshold,
            "unit": claim.unit,
            "best": None if best is None else {"value": best.value,
                                               "subject": best.version.subject,
                                               "key": best.row.key},
            "distance": distance,
            "projection": (projection.to_json() if (projection := trends.projection(
                claim, p.threshold)) else None),
        })
    return sorted(result, key=lambda item: (item["deadline"], item["id"]))


def revised_after_resolution(db: Database, sources: SourceKinds, end: str,
                             predictions: list[Prediction]) -> list[JSON]:
    """Resolved predictions whose evidence no longer supports their outcome (the evaluator's
    own rule, ``still_holds``): the deciding row was retracted, revised or re-dated so that it
    no longer qualifies or crosses, or (for a late outcome) a crossing row surfaced. The
    outcome is sticky; a person decides."""
    views = Views(db, end)
    result: list[JSON] = []
    for p in predictions:
        if p.status != "resolved" or p.manual or p.deciding is None or p.threshold is None:
            continue
        claim = parse_cached(p.claim, sources)
        broken = still_holds(claim, p.deciding, views(claim.source), p.threshold)
        if broken is None:
            continue
        key = p.deciding.key if isinstance(p.deciding, RowDecision) else None
        if broken.best is not None:
            best = broken.best
            why = (f"a crossing row surfaced later: {best.value:g} by {best.version.subject} "
                   f"({best.row.key})")
        elif broken.row is None or broken.row.retracted:
            why = f"its deciding row {key} was retracted"
        else:
            latest = broken.row.latest
            why = (f"its deciding row {broken.row.key} no longer crosses or qualifies (now "
                   f"{latest.value:g}, dated {latest.result_date})")
        result.append({"id": p.id, "title": p.title,
                       "reason": f"resolved {p.outcome}, but {why}"})
    return result


def series(db: Database, sources: SourceKinds, end: str,
           predictions: list[Prediction]) -> list[JSON]:
    """Per (source, benchmark) with open claims: the state of the art over time (each new
    maximum by result date, among rows live at ``end``) and the claims' thresholds."""
    groups: dict[tuple[str, str], list[JSON]] = {}
    for p in predictions:
        if p.manual or p.status not in ("open", "provisional"):
            continue
        claim = parse_cached(p.claim, sources)
        groups.setdefault((claim.source, claim.benchmark), []).append({
            "id": p.id, "threshold": p.threshold, "op": claim.op, "unit": claim.unit,
            "start": claim.start.isoformat() if claim.start else None,
            "end": claim.last_day.isoformat()})
    charts = []
    views = Views(db, end)
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


def track_record(db: Database, sources: SourceKinds, end: str,
                 predictions: list[Prediction]) -> JSON:
    """The track record (DESIGN section 12) of the predictions resolved by ``end`` with a
    probability, per author and over all, each with its pace as of ``end``."""
    from resolver.scores import Scored, scores

    trends = Trends(Views(db, end))
    scored = []
    for p in predictions:
        if p.status != "resolved" or p.probability is None or p.outcome is None:
            continue
        pace = (None if p.manual else
                trends.pace(parse_cached(p.claim, sources), p.threshold, p.made_at))
        scored.append(Scored(p.author, p.probability, p.outcome, pace))
    return scores(scored).to_json()
