"""What people read: prediction summaries, one prediction's explanation, source health, and
decisions made by hand."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

import sources as source_kinds
from resolver import claims, clock
from resolver.errors import NotFound, ResolverError
from resolver.evaluate import deciding_row
from resolver.settings import Settings
from state import predictions as store
from state.db import write


def summary(db: Database, record: dict[str, Any]) -> dict[str, Any]:
    resolved_at = record["status_at"] if record["status"] in ("resolved", "annulled") else None
    evidence = (deciding_row(store.last_evidence(db, record["id"]))
                if record["status"] != "open" else None)
    return {
        "id": record["id"], "claim": record["claim"], "status": record["status"],
        "outcome": record["outcome"], "resolved_at": resolved_at,
        "evidence": _public_evidence(evidence), "title": record["title"],
        "author": record["author"], "source": record["source"],
        "deadline": record["deadline"] or _deadline(record["claim"]),
        "baseline": (record["baseline"] or {}).get("text"),
    }


def settlement(bet: dict[str, Any], status: str, outcome: str | None) -> dict[str, Any] | None:
    """Who pays whom once a bet's prediction is resolved or annulled; None while it is not, or
    when an annulment settles nothing (no ``if_annulled``)."""
    if status not in ("resolved", "annulled"):
        return None
    if status == "annulled":
        annulled = bet.get("if_annulled")
        if not annulled:
            return None
        payer = annulled["payer"]
        payee = bet["no"] if payer == bet["yes"] else bet["yes"]
        return {"yes": bet["yes"], "no": bet["no"], "stake": annulled["stake"], "payer": payer,
                "payee": payee}
    payee, payer = (bet["yes"], bet["no"]) if outcome == "yes" else (bet["no"], bet["yes"])
    return {"yes": bet["yes"], "no": bet["no"], "stake": bet["stake"], "payer": payer,
            "payee": payee}


def _public_evidence(evidence: dict[str, Any] | None) -> dict[str, Any] | None:
    if evidence is None:
        return None
    names = ("source", "benchmark", "key", "subject", "value", "result_date", "first_seen", "url",
             "snapshot_sha256")
    return {name: evidence.get(name) for name in names}


def _deadline(claim: str) -> str | None:
    marker = claim.split(" dated by ")[0].split()
    return marker[-1] if len(marker) >= 2 and marker[-2] in ("by", "and") else None


def summaries(db: Database, *, status: str | None = None) -> list[dict[str, Any]]:
    return [summary(db, record) for record in store.all_(db, status=status)]


def detail(db: Database, settings: Settings, prediction_id: str) -> dict[str, Any]:
    record = store.get(db, prediction_id)
    if record is None:
        raise NotFound(f"no prediction with id {prediction_id!r} (see: resolver predict list)")
    result = summary(db, record)
    result.update(
        raw=record["raw"], registered_at=record["registered_at"], url=record["url"],
        quote=record["quote"], probability=record["probability"], bet=record["bet"],
        criteria=record["criteria"], late_days=record["late_days"],
        confirm_hours=record["confirm_hours"], confirm_polls=record["confirm_polls"],
        events=store.events(db, prediction_id),
        settlement=settlement(record["bet"], record["status"], record["outcome"])
        if record["bet"] else None,
    )
    if record["claim"] != "manual":
        from resolver.evaluate import corroboration, state_of_the_art

        claim = claims.parse(record["claim"], settings.source_kinds())
        now = clock.now()
        result["state_of_the_art"] = state_of_the_art(db, claim, now)
        result["corroboration"] = corroboration(db, claim, settings.source_kinds(), now)
    return result


def render_detail(item: dict[str, Any]) -> str:
    lines = [f"{item['id']}: {item['title'] or ''}".rstrip(": ")]
    lines.append(f"  claim:      {item['claim']}")
    if item["raw"] not in (item["claim"], "manual"):
        lines.append(f"  as written: {item['raw']}")
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
    if best:
        lines.append(f"  best now:   {best['value']:g} by {best['subject']} ({best['key']}, "
                     f"dated {best['result_date']})")
    for other in item.get("corroboration") or []:
        best = other["best"]
        said = (f"{best['value']:g} by {best['subject']} (dated {best['result_date']})"
                if best else "no qualifying row")
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
                  if event["kind"] == "status" else event["kind"])
        by = f" by {event['by']}" if event["by"] else ""
        lines.append(f"  {event['at']}  {change}{by}: {event['reason']}")
        proof = event["evidence"] or {}
        row = deciding_row(proof)
        if row:
            lines.append(f"      evidence: {row['source']} {row['key']} v{row.get('version')} "
                         f"= {row['value']:g}, first seen {row['first_seen']}")
            lines.append(f"      snapshot: {row['snapshot_sha256']}  ({row['url']})")
        if "poll" in proof:
            lines.append(f"      deciding poll: {proof['poll']['at']} snapshot "
                         f"{proof['poll']['snapshot_sha256']}")
    if any((e["evidence"] or {}) for e in item["events"]):
        lines.append("  re-derive: resolver evidence SHA256 -o payload  (the archived bytes)")
    return "\n".join(lines)


def resolve_by_hand(db: Database, prediction_id: str, decision: str, *, note: str, by: str,
                    override: bool) -> str:
    with write(db):
        record = store.get(db, prediction_id)
        if record is None:
            raise NotFound(f"no prediction with id {prediction_id!r}")
        if record["status"] in ("resolved", "annulled") and not override:
            raise ResolverError(f"{prediction_id} is already {record['status']}"
                                f"{' ' + record['outcome'] if record['outcome'] else ''}; "
                                "pass --override to change it")
        status = "annulled" if decision == "annul" else "resolved"
        outcome = None if decision == "annul" else decision
        latest = store.latest_event_at(db) or ""
        at = max(clock.now(), latest)
        event = store.Event(prediction_id, "status", at, clock.now(), note,
                            from_status=record["status"], to_status=status, outcome=outcome,
                            by=by)
        store.append(db, event, status=status, outcome=outcome, deciding=record["deciding"])
    return f"{status}{' ' + outcome if outcome else ''}"


def sources(db: Database, settings: Settings) -> list[dict[str, Any]]:
    result = []
    now = clock.now()
    for source in settings.resolved_sources().values():
        last_ok = db.execute(
            "SELECT at, rows FROM fetches WHERE source = ? AND status != 'failed'"
            " ORDER BY at DESC, id DESC LIMIT 1", [source.name]).fetchone()
        last_fail = db.execute(
            "SELECT at, error FROM fetches WHERE source = ? AND status = 'failed'"
            " ORDER BY at DESC, id DESC LIMIT 1", [source.name]).fetchone()
        failing_since = None
        if last_fail and (not last_ok or last_fail[0] > last_ok[0]):
            failing_since = db.execute(
                "SELECT min(at) FROM fetches WHERE source = ? AND status = 'failed' AND at > ?",
                [source.name, last_ok[0] if last_ok else ""]).fetchone()[0]
        stale = source.enabled and (
            last_ok is None
            or clock.add_hours(last_ok[0], 3 * source.every / 3600) < now
        )
        suspicious = [
            {"benchmark": b, "reason": r, "since": s, "polls": n}
            for b, r, s, n in db.execute(
                "SELECT benchmark, suspicious_reason, suspicious_since, suspicious_polls"
                " FROM benchmark_health WHERE source = ? AND suspicious_polls > 0",
                [source.name])
        ]
        result.append({
            "name": source.name, "kind": source.kind, "url": source.url,
            "enabled": source.enabled, "retired": source.retired,
            "supported": source.kind in source_kinds.KINDS,
            "every": _duration(source.every),
            "last_success": last_ok[0] if last_ok else None,
            "rows": last_ok[1] if last_ok else None,
            "last_failure": last_fail[0] if last_fail else None,
            "last_error": last_fail[1] if last_fail else None,
            "failing_since": failing_since, "stale": bool(stale), "suspicious": suspicious,
        })
    return result


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
