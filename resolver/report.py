"""What people read on the command line: prediction summaries, one prediction's explanation,
and source health. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from resolver import clock, collector, numbers
from resolver.claims import Claim, SourceKinds, parse_cached
from resolver.errors import NotFound
from resolver.settings import Settings, Source
from resolver.sota import Candidate, SourceView, Views, corroboration
from state import chain, health, rows
from state import predictions as store
from state.db import Database
from state.records import (
    JSON,
    Evidence,
    LateEvidence,
    Prediction,
    Status,
    deciding_row,
    proof_from_json,
)

if TYPE_CHECKING:
    from resolver.trend import Trends


def summary(db: Database, p: Prediction, views: Views | None = None,
            kinds: SourceKinds | None = None, trends: Trends | None = None) -> JSON:
    """What ``predict list --json`` says of a prediction; with ``views`` (the sources now),
    also where it stands: its unit, the best qualifying row now whatever its date, and (with
    ``trends``) the trend's projection and the claim's pace (DESIGN section 12)."""
    evidence = deciding_row(store.last_evidence(db, p.id)) if p.status != "open" else None
    item: JSON = {
        "id": p.id, "claim": p.claim, "status": p.status, "outcome": p.outcome,
        "resolved_at": p.status_at if p.settled else None,
        "evidence": _public_evidence(evidence), "title": p.title, "author": p.author,
        "source": p.source, "deadline": p.deadline or _deadline(p.claim),
        "baseline": p.baseline.text if p.baseline else None,
        "threshold": p.threshold, "probability": p.probability, "made": p.made_at[:10],
    }
    if views is not None and kinds is not None and not p.manual:
        claim = parse_cached(p.claim, kinds)
        best = views(claim.source).best(claim, None, dt.date.max)
        item["unit"] = claim.unit
        item["best_now"] = None if best is None else {
            "value": best.value, "subject": best.version.subject, "key": best.row.key,
            "result_date": best.version.result_date}
        if trends is not None:
            projection = trends.projection(claim, p.threshold) if p.status == "open" else None
            item["projection"] = projection.to_json() if projection else None
            item["pace"] = trends.pace(claim, p.threshold, p.made_at)
    return item


_PUBLIC = ("source", "benchmark", "key", "subject", "value", "result_date", "first_seen", "url",
           "snapshot_sha256")


def _public_evidence(evidence: Evidence | None) -> JSON | None:
    if evidence is None:
        return None
    data = evidence.to_json()
    return {name: data[name] for name in _PUBLIC}


def _deadline(claim: str) -> str | None:
    marker = claim.split(" dated by ")[0].split()
    return marker[-1] if len(marker) >= 2 and marker[-2] in ("by", "and") else None


def summaries(db: Database, settings: Settings, *, status: Status | None = None) -> list[JSON]:
    """Every prediction's summary (``predict list --json``, the web API), with the trend's
    projection and pace."""
    from resolver.trend import Trends

    views = Views(db, clock.now())
    trends = Trends(views)
    return [summary(db, p, views, settings.kinds, trends)
            for p in store.all_(db, status=status)]


def listing(db: Database, settings: Settings, *, status: Status | None = None) -> list[str]:
    """``predict list``: one aligned line per prediction, numbers rounded with units; none
    when no prediction is registered. Only what the table shows: no evidence and no trend,
    and one claim parsed per state of the art (claims that share a source and a ``standing``
    share their best row now), not one per prediction."""
    views = Views(db, clock.now())
    best_now: dict[tuple[str, str], tuple[Claim, Candidate | None]] = {}
    lines = []
    with collector.paused():  # tens of thousands of acyclic objects
        predictions = store.listed(db, status=status)
    for p in predictions:
        unit, best = "", None
        if not p.manual:
            key = (p.source or "", _standing(p.claim, p.partition))
            if key not in best_now:
                claim = parse_cached(p.claim, settings.kinds)
                best_now[key] = claim, views(claim.source).best(claim, None, dt.date.max)
            claim, best = best_now[key]
            unit = claim.unit
        lines.append((p.id, p.status, p.outcome or "-",
                      numbers.value(best.value, unit) if best else "-",
                      numbers.threshold(p.threshold, unit) if unit else "manual",
                      p.deadline or _deadline(p.claim) or "-", numbers.probability(p.probability),
                      p.title or p.claim))
    if not lines:
        return []
    return numbers.table(lines, ("ID", "STATUS", "OUTCOME", "BEST NOW", "THRESHOLD",
                                 "DEADLINE", "P", "TITLE"))


def _standing(claim: str, partition: str | None) -> str:
    """What the best row over all time of a stored claim (normalized, with its partition,
    ``Claim.partition``) depends on, whatever its threshold and window: the partition without
    the window, and the claim's filters (a ``source`` filter picks the source). Claims that
    share it share ``SourceView.best(claim, None, ...)``."""
    if partition is None:
        return claim
    return f"{partition.rsplit('|', 2)[0]}|{claim.partition(' where ')[2]}"


def detail(db: Database, settings: Settings, prediction_id: str) -> JSON:
    """What ``show --json`` says: the summary, every field, the event log, the state of the
    art and what other sources say."""
    p = store.get(db, prediction_id)
    if p is None:
        raise NotFound(f"no prediction with id {prediction_id!r} (see: resolver predict list)")
    from resolver.trend import Trends

    now = clock.now()
    views = Views(db, now)
    result = summary(db, p, views, settings.kinds, Trends(views))
    settled = p.bet.settle(p.status, p.outcome) if p.bet else None
    result.update(
        raw=p.raw, registered_at=p.registered_at, url=p.url, quote=p.quote,
        probability=p.probability, bet=p.bet.to_json() if p.bet else None,
        criteria=p.criteria, late_days=p.late_days, confirm_hours=p.confirm_hours,
        confirm_polls=p.confirm_polls,
        events=[event.to_json() for event in store.events(db, prediction_id)],
        chain=chain.head(db).to_json(),
        settlement=settled.to_json() if settled else None,
    )
    if not p.manual:
        claim = parse_cached(p.claim, settings.kinds)
        best = SourceView(db, claim.source, now).best_in_window(claim)
        result["state_of_the_art"] = best.evidence(claim.source).to_json() if best else None
        others = _benchmark_sources(settings, claim.benchmark)
        result["corroboration"] = [
            {"source": c.source, "filters_applied": c.filters_applied,
             "best": c.best.to_json() if c.best else None,
             "polled": health.of(db, c.source).last_success is not None}
            for c in corroboration(db, claim, others, now)]
    return result


def _benchmark_sources(settings: Settings, benchmark: str) -> dict[str, dict[str, type]]:
    """The enabled sources that yield ``benchmark``, with the attributes each states."""
    sources = settings.resolved_sources()
    found = {}
    for name in settings.kinds.yielding(benchmark):
        yielded = settings.kinds.benchmark(benchmark, name)
        if yielded is not None and sources[name].enabled:
            found[name] = dict(yielded.attributes)
    return found


def render_detail(item: JSON) -> str:
    """``resolver show``: the prediction, where it stands, and its evidence chain."""
    unit = item.get("unit", "")

    def shown(row: JSON) -> str:
        return (f"{numbers.value(row['value'], unit)} by {row['subject']} ({row['key']}, "
                f"dated {row['result_date'] or 'undated'})")

    lines = [f"{item['id']}: {item['title'] or ''}".rstrip(": ")]
    lines.append(f"  claim:      {item['claim']}")
    if item["raw"] not in (item["claim"], "manual"):
        lines.append(f"  as written: {item['raw']}")
    if item["author"]:
        lines.append(f"  author:     {item['author']}, made {item['made']}")
    if item["probability"] is not None:
        lines.append(f"  probability: {numbers.probability(item['probability'])} "
                     "(the author's, that it resolves yes)")
    if item["criteria"]:
        lines.append(f"  criteria:   {item['criteria']} (deadline {item['deadline']})")
    if item["baseline"]:
        lines.append(f"  baseline:   {item['baseline']}")
    outcome = f" ({item['outcome']})" if item["outcome"] else ""
    lines.append(f"  status:     {item['status']}{outcome}")
    if item["source"]:
        lines.append(f"  source:     {item['source']}; late_days {item['late_days']}, "
                     f"confirm {item['confirm_hours']:g}h and {item['confirm_polls']} polls")
    best = item.get("state_of_the_art")
    if item["source"]:
        window = shown(best) if best else "no qualifying row"
        gap = numbers.distance(best["value"] if best else None, item["threshold"], unit)
        lines.append(f"  best in window: {window}; {gap}")
        now = item.get("best_now")
        if now and (not best or now["key"] != best["key"]):
            lines.append(f"  best now:   {shown(now)} (any date)")
    if item.get("projection"):
        lines.append(f"  trend:      {_projection(item['projection'], item['threshold'], unit)}")
    if item.get("pace") is not None:
        lines.append(f"  pace:       {item['pace']:.0%} of the pace the claim needed "
                     "(100% = exactly on pace)")
    for other in item.get("corroboration") or []:
        said = (shown(other["best"]) if other["best"] else "no qualifying row"
                if other.get("polled", True) else "not polled yet")
        note = "" if other["filters_applied"] else " (its rows lack this claim's filters)"
        lines.append(f"  {other['source']} says: {said}{note} [corroboration only]")
    if item.get("settlement"):
        owed = item["settlement"]
        lines.append(f"  bet:        {owed['payer']} owes {owed['payee']} {owed['stake']}")
    elif item.get("bet"):
        bet = item["bet"]
        lines.append(f"  bet:        yes {bet['yes']}, no {bet['no']}, {bet['stake']}")
    for event in item["events"]:
        change = (f"{event['from_status']} -> {event['to_status']}"
                  + (f" ({event['outcome']})" if event["outcome"] else "")
                  if event["kind"] == "status" else "baseline frozen")
        by = f" by {event['by']}" if event["by"] else ""
        lines.append(f"  {event['at']}  {change}{by}: {event['reason']}")
        proof = proof_from_json(event["evidence"])
        row = deciding_row(proof)
        if row:
            lines.append(f"      evidence: {row.source} {row.key} v{row.version} "
                         f"= {numbers.value(row.value, unit)}, first seen {row.first_seen}")
            lines.append(f"      snapshot: {row.snapshot_sha256}  ({row.url})")
        if isinstance(proof, LateEvidence):
            lines.append(f"      deciding poll: {proof.poll_at} snapshot {proof.poll_sha256}")
    if any(e["evidence"] for e in item["events"]):
        lines.append("  re-derive: resolver evidence SHA256 -o payload  (the archived bytes);"
                     f" resolver verify {item['id']}")
    if item.get("chain"):
        lines.append(f"  event log:  events {item['chain']['events']}, head "
                     f"{item['chain']['head']}")
    return "\n".join(lines)


def _projection(projection: JSON, threshold: float, unit: str) -> str:
    crossing = projection["crossing_date"]
    shown = numbers.threshold(threshold, unit)
    if not crossing:
        line = "the fitted line never reaches the threshold"
    elif crossing <= projection["at"][:10]:
        line = (f"the fitted line is above {shown} since {crossing} (the records lag the fit: "
                "read it as the trend, not as a result)")
    else:
        line = f"the fitted line reaches {shown} on {crossing}"
    return (f"P(yes) {numbers.probability(projection['p_by_deadline'])}; {line} "
            f"({projection['n']} frontier rows since {projection['since']}, as of the poll "
            f"at {projection['at']})")


def sources(db: Database, settings: Settings) -> list[JSON]:
    """What ``resolver sources --json`` says: each source with its health."""
    result = []
    now = clock.now()
    for source in settings.resolved_sources().values():
        state = health.of(db, source.name)
        stale = is_stale(source, state, now)
        result.append({
            "name": source.name, "kind": source.kind, "url": source.url,
            "enabled": source.enabled, "retired": source.retired,
            "every": _duration(source.every),
            "last_success": state.last_success, "rows": state.rows,
            "last_failure": state.last_failure, "last_error": state.last_error,
            "failing_since": state.failing_since, "stale": bool(stale),
            "suspicious": [flag.to_json() for flag in state.suspicious],
            "benchmarks": _benchmarks(db, settings, source.name),
            "notes": health.notes(db, source.name),
        })
    return result


def render_sources(db: Database, items: list[JSON]) -> list[str]:
    """``resolver sources``: each source's state, its last success and failure, what its last
    poll said besides rows, its benchmarks; then the predictions files being skipped."""
    from resolver.digest import predictions_file_problems

    lines = []
    for item in items:
        if not item["enabled"]:
            state = "disabled"
        elif item["failing_since"]:
            state = f"FAILING since {item['failing_since']}"
        elif item["last_success"] is None:
            state = "never polled"
        else:
            state = "STALE" if item["stale"] else "ok"
        lines.append(f"{item['name']:<22} {item['kind']:<24} {state}")
        lines.append(f"  {item['url']}  every {item['every']}")
        lines.append(f"  last success: {item['last_success'] or 'never'}"
                     + (f"  ({item['rows']} rows)" if item["rows"] is not None else ""))
        if item["last_failure"]:
            lines.append(f"  last failure: {item['last_failure']}: {item['last_error']}")
        for flag in item["suspicious"]:
            lines.append(f"  suspicious: {flag['benchmark']}: {flag['reason']}")
        notes = item["notes"]
        for benchmark, reason in sorted(notes.get("failed", {}).items()):
            lines.append(f"  {item['name']}: {benchmark} did not parse ({reason}); its rows are "
                         "kept as they were")
        for member in notes.get("unknown", []):
            lines.append(f"  new member {member}: unit unknown (map it with "
                         f"[sources.{item['name']}.members.\"{member}\"] unit and scale)")
        if item["benchmarks"]:
            shown = ", ".join(f"{b['id']} ({b['rows']})" for b in item["benchmarks"])
            lines.append(f"  benchmarks (live rows): {shown}")
    lines += [f"{problem['name']}: {problem['errors'][0]}"
              for problem in predictions_file_problems(db, clock.now() + "~")]
    return lines


def _benchmarks(db: Database, settings: Settings, source: str) -> list[JSON]:
    """Every benchmark the source yields, with its unit, live rows and best row now."""
    live = rows.live_counts(db, source)
    listed: list[JSON] = []
    for benchmark in settings.kinds.benchmarks(source).values():
        count, best = live.get(benchmark.id, (0, None))
        listed.append({"id": benchmark.id, "unit": benchmark.unit, "rows": count,
                       "best": None if best is None else {
                           "value": best.value, "subject": best.subject, "key": best.key,
                           "result_date": best.result_date}})
    return listed


def is_stale(source: Source, state: health.Health, now: str) -> bool:
    """An enabled source with no success for three of its intervals (DESIGN section 8)."""
    return source.enabled and (
        state.last_success is None
        or clock.add_hours(state.last_success, 3 * source.every / 3600) < now)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
