"""Recording polls: a failed fetch, an unchanged payload, or a new snapshot to ingest.

Each ``record_*`` runs inside the caller's write transaction and leaves the store
consistent: a snapshot is ingested whole or not at all.

Health is judged per benchmark (DESIGN section 2). A benchmark whose row count falls by
more than half against its last healthy snapshot, or that vanishes, is suspicious: present
rows are ingested, missing rows stay live, and the poll is flagged. At the third consecutive
successful poll with the same key set the missing rows are retracted.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sources.base import Observation, Snapshot
from state import reports
from state.db import Database

SUSPICIOUS_POLLS_TO_RETRACT = 3


@dataclass
class PollResult:
    source: str
    at: str
    status: str  # ok | unchanged | failed
    fetch_id: int
    url: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    rows: int = 0
    new_rows: int = 0
    new_versions: int = 0
    new_reports: int = 0
    retracted: int = 0
    restored: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    suspicious: list[dict[str, Any]] = field(default_factory=list)
    undated: list[dict[str, str]] = field(default_factory=list)  # dates after the poll
    # Members that failed alone (benchmark -> reason), unknown members, skipped rows.
    failed: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True)
class FetchInfo:
    url: str
    recorded_at: str
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    ms: int | None = None  # how long the fetch took


def last_success(db: Database, source: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT id, at, sha256, etag, last_modified, url FROM fetches"
        " WHERE source = ? AND status != 'failed' ORDER BY at DESC, id DESC LIMIT 1",
        [source],
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "at", "sha256", "etag", "last_modified", "url"), row, strict=True))


def latest_new_payload(db: Database) -> int:
    """The id of the latest poll of any source that brought a new payload (0: none)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM fetches WHERE status = 'ok'"
                          ).fetchone()[0])


def last_poll_at(db: Database, source: str) -> str | None:
    row = db.execute("SELECT max(at) FROM fetches WHERE source = ?", [source]).fetchone()
    return row[0] if row else None


def record_failure(
    db: Database, *, source: str, at: str, info: FetchInfo, error: str
) -> PollResult:
    fetch_id = _insert_fetch(db, source, at, "failed", info, error=error)
    return PollResult(source, at, "failed", fetch_id, url=info.url, error=error)


def record_unchanged(db: Database, *, source: str, at: str, info: FetchInfo) -> PollResult:
    previous = last_success(db, source)
    assert previous is not None, "an unchanged poll needs an earlier successful one"
    fetch_id = _insert_fetch(db, source, at, "unchanged", info, sha256=previous["sha256"])
    result = PollResult(source, at, "unchanged", fetch_id, url=info.url, sha256=previous["sha256"])
    # The same payload says the same: members that failed then fail again.
    notes = json.loads(db.execute("SELECT notes FROM fetches WHERE id = ?",
                                  [previous["id"]]).fetchone()[0] or "{}")
    result.failed, result.unknown = dict(notes.get("failed", {})), list(notes.get("unknown", []))
    # The rows of the previous snapshot were seen again.
    db.execute(
        "UPDATE versions SET last_seen = ? WHERE last_seen = ? AND id IN"
        " (SELECT version_id FROM observations WHERE source = ? AND retracted_at IS NULL)",
        [at, previous["at"], source],
    )
    result.rows = db.execute(
        "SELECT count(*) FROM observations o JOIN versions v ON v.id = o.version_id"
        " WHERE o.source = ? AND o.retracted_at IS NULL AND v.last_seen = ?", [source, at]
    ).fetchone()[0]
    # Suspicious benchmarks: the same key set once more.
    for benchmark, polls, reason in db.execute(
        "SELECT benchmark, suspicious_polls, suspicious_reason FROM benchmark_health"
        " WHERE source = ? AND suspicious_polls > 0", [source]
    ).fetchall():
        if benchmark in result.failed:
            continue  # a failed member counts towards nothing, retraction included
        if polls + 1 >= SUSPICIOUS_POLLS_TO_RETRACT:
            missing = [oid for (oid,) in db.execute(
                "SELECT o.id FROM observations o JOIN versions v ON v.id = o.version_id"
                " WHERE o.source = ? AND o.benchmark = ? AND o.retracted_at IS NULL"
                " AND v.last_seen < ?", [source, benchmark, at]).fetchall()]
            result.retracted += _retract(db, missing, at, fetch_id)
            present = db.execute(
                "SELECT count(*) FROM observations WHERE source = ? AND benchmark = ?"
                " AND retracted_at IS NULL", [source, benchmark]).fetchone()[0]
            _set_healthy(db, source, benchmark, present, at)
        else:
            db.execute(
                "UPDATE benchmark_health SET suspicious_polls = ?"
                " WHERE source = ? AND benchmark = ?",
                [polls + 1, source, benchmark],
            )
            result.suspicious.append({"benchmark": benchmark, "reason": reason, "polls": polls + 1})
    _flag_failed(result)
    _finish_fetch(db, result)
    return result


def record_snapshot(
    db: Database, *, source: str, at: str, info: FetchInfo, size: int, sha256: str,
    snapshot: Snapshot, undated: list[dict[str, str]] | None = None,
) -> PollResult:
    """Ingest a snapshot. The caller stores its payload (``payloads.store``) in the same
    transaction; the foreign key from the fetch to it is checked at commit. A benchmark the
    snapshot reports as failed (an Epoch member that does not parse) is left untouched: its
    rows keep their versions, nothing is retracted, and the poll gives it no late outcome."""
    fetch_id = _insert_fetch(db, source, at, "ok", info, sha256=sha256, size=size)
    result = PollResult(source, at, "ok", fetch_id, url=info.url, sha256=sha256, bytes=size,
                        undated=list(undated or []), failed=dict(snapshot.failed),
                        unknown=list(snapshot.unknown),
                        skipped=[{"benchmark": s.benchmark, "reason": s.reason}
                                 for s in snapshot.skipped])
    existing = _current(db, source)
    contents = [_content(obs) for obs in snapshot.observations]
    for benchmark, reason in _conflicts(snapshot, contents).items():
        result.failed.setdefault(benchmark, reason)
    present: dict[str, set[str]] = defaultdict(set)
    new_versions: list[tuple[Any, ...]] = []
    seen_again: list[tuple[str, int]] = []
    for obs, content in zip(snapshot.observations, contents, strict=True):
        if obs.benchmark in result.failed:
            continue  # health is per benchmark: a failed one keeps its rows as they were
        keys = present[obs.benchmark]
        if obs.key in keys:
            continue  # the same row twice within one payload (identical: _conflicts)
        keys.add(obs.key)
        known = existing.get((obs.benchmark, obs.key))
        if known is None:
            cursor = db.execute(
                "INSERT INTO observations (source, benchmark, key, first_seen) VALUES (?, ?, ?, ?)",
                [source, obs.benchmark, obs.key, at],
            )
            new_versions.append((cursor.lastrowid, 1, *content, at, at, fetch_id))
            result.new_rows += 1
            continue
        observation_id, retracted_at, version_id, n, old_content = known
        if retracted_at is not None:
            result.restored += _restore(db, observation_id, at, fetch_id)
        if content != old_content:
            new_versions.append((observation_id, n + 1, *content, at, at, fetch_id))
        else:
            seen_again.append((at, version_id))
    for rejection in snapshot.rejections:
        result.rejected.append({"benchmark": rejection.benchmark, "key": rejection.key,
                                "subject": rejection.subject, "reason": rejection.reason})
        # A rejected row keeps its previous version: it is present, not retracted.
        if rejection.key not in present[rejection.benchmark]:
            present[rejection.benchmark].add(rejection.key)
            known = existing.get((rejection.benchmark, rejection.key))
            if known is not None:
                if known[1] is not None:
                    result.restored += _restore(db, known[0], at, fetch_id)
                seen_again.append((at, known[2]))
    db.conn.executemany(
        "INSERT INTO versions (observation_id, n, subject, value, ci_low, ci_high, result_date,"
        " attributes, first_seen, last_seen, fetch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        new_versions,
    )
    if new_versions:
        db.execute(
            "UPDATE observations SET version_id = (SELECT max(id) FROM versions v"
            " WHERE v.observation_id = observations.id) WHERE source = ? AND id IN"
            " (SELECT observation_id FROM versions WHERE fetch_id = ?)", [source, fetch_id],
        )
    db.conn.executemany("UPDATE versions SET last_seen = ? WHERE id = ?", seen_again)
    result.new_versions = len(new_versions) - result.new_rows
    result.rows = sum(len(keys) for keys in present.values())
    if snapshot.reports:
        result.new_reports = reports.record(db, result.source, result.fetch_id, result.at,
                                            snapshot.reports)
        result.rows += len(snapshot.reports)
    _judge_health(db, result, existing, present)
    _flag_failed(result)
    _finish_fetch(db, result)
    return result


def _conflicts(snapshot: Snapshot, contents: list[tuple[Any, ...]]) -> dict[str, str]:
    """Benchmarks in which one key names two rows that differ: which one is right cannot be
    known, so neither counts; the benchmark fails at this poll and keeps its rows."""
    first: dict[tuple[str, str], tuple[Any, ...]] = {}
    found: dict[str, str] = {}
    for obs, content in zip(snapshot.observations, contents, strict=True):
        seen = first.setdefault((obs.benchmark, obs.key), content)
        if seen != content and obs.benchmark not in found:
            found[obs.benchmark] = (f"key {obs.key!r} names two different rows (values "
                                    f"{seen[1]:g} and {content[1]:g}): neither counts")
    return found


def _flag_failed(result: PollResult) -> None:
    """A failed member's benchmark is flagged in the poll (so the lifecycle takes no late
    outcome from it), apart from the suspicious ones: nothing counts towards retraction."""
    for benchmark, reason in sorted(result.failed.items()):
        result.suspicious.append({"benchmark": benchmark, "reason": f"failed: {reason}",
                                  "failed": True})


def _judge_health(
    db: Database, result: PollResult, existing: dict[tuple[str, str], tuple[Any, ...]],
    present: dict[str, set[str]],
) -> None:
    source, at = result.source, result.at
    live: dict[str, dict[str, int]] = defaultdict(dict)
    for (benchmark, key), (observation_id, retracted_at, *_rest) in existing.items():
        if retracted_at is None:
            live[benchmark][key] = observation_id
    health = {
        row[0]: row[1:]
        for row in db.execute(
            "SELECT benchmark, healthy_rows, suspicious_keys, suspicious_polls, suspicious_since"
            " FROM benchmark_health WHERE source = ?", [source]
        ).fetchall()
    }
    for benchmark in sorted(set(live) | set(present)):
        if benchmark in result.failed:
            continue  # health is per member: a failed one keeps its rows and its health
        keys = present.get(benchmark, set())
        missing = [oid for key, oid in live[benchmark].items() if key not in keys]
        healthy_rows, suspicious_keys, polls, since = health.get(benchmark, (0, None, 0, None))
        reason = None
        if live[benchmark] and not keys:
            reason = f"vanished from the payload ({len(live[benchmark])} rows were live)"
        elif keys and len(keys) < healthy_rows / 2:
            reason = f"row count fell by more than half, from {healthy_rows} to {len(keys)}"
        if reason is None or not missing:
            result.retracted += _retract(db, missing, at, result.fetch_id)
            _set_healthy(db, source, benchmark, len(keys), at)
            continue
        key_hash = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
        polls = polls + 1 if suspicious_keys == key_hash else 1
        if polls >= SUSPICIOUS_POLLS_TO_RETRACT:
            result.retracted += _retract(db, missing, at, result.fetch_id)
            _set_healthy(db, source, benchmark, len(keys), at)
            continue
        db.execute(
            "INSERT INTO benchmark_health (source, benchmark, healthy_rows, healthy_at,"
            " suspicious_since, suspicious_keys, suspicious_polls, suspicious_reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, benchmark) DO UPDATE SET"
            " suspicious_since = excluded.suspicious_since, suspicious_keys ="
            " excluded.suspicious_keys, suspicious_polls = excluded.suspicious_polls,"
            " suspicious_reason = excluded.suspicious_reason",
            [source, benchmark, healthy_rows, at, since if polls > 1 else at, key_hash, polls,
             reason],
        )
        result.suspicious.append({"benchmark": benchmark, "reason": reason, "polls": polls})


def _set_healthy(db: Database, source: str, benchmark: str, rows: int, at: str) -> None:
    db.execute(
        "INSERT INTO benchmark_health (source, benchmark, healthy_rows, healthy_at,"
        " suspicious_polls) VALUES (?, ?, ?, ?, 0) ON CONFLICT (source, benchmark) DO UPDATE SET"
        " healthy_rows = excluded.healthy_rows, healthy_at = excluded.healthy_at,"
        " suspicious_since = NULL, suspicious_keys = NULL, suspicious_polls = 0,"
        " suspicious_reason = NULL",
        [source, benchmark, rows, at],
    )


def _retract(db: Database, observation_ids: list[int], at: str, fetch_id: int) -> int:
    db.conn.executemany(
        "INSERT INTO retractions (observation_id, at, fetch_id) VALUES (?, ?, ?)",
        [(oid, at, fetch_id) for oid in observation_ids],
    )
    db.conn.executemany(
        "UPDATE observations SET retracted_at = ? WHERE id = ?",
        [(at, oid) for oid in observation_ids],
    )
    return len(observation_ids)


def _restore(db: Database, observation_id: int, at: str, fetch_id: int) -> int:
    db.execute(
        "UPDATE retractions SET restored_at = ?, restored_fetch_id = ?"
        " WHERE observation_id = ? AND restored_at IS NULL", [at, fetch_id, observation_id],
    )
    db.execute("UPDATE observations SET retracted_at = NULL WHERE id = ?", [observation_id])
    return 1


_ATTRIBUTES = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # built once, not per row


def _content(obs: Observation) -> tuple[Any, ...]:
    attributes = _ATTRIBUTES.encode(dict(obs.attributes))
    return (obs.subject, obs.value, obs.ci_low, obs.ci_high, obs.result_date, attributes)


def _current(db: Database, source: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = db.execute(
        "SELECT o.benchmark, o.key, o.id, o.retracted_at, v.id, v.n, v.subject, v.value,"
        " v.ci_low, v.ci_high, v.result_date, v.attributes FROM observations o"
        " JOIN versions v ON v.id = o.version_id WHERE o.source = ?", [source]
    ).fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4], r[5], tuple(r[6:])) for r in rows}


def _insert_fetch(
    db: Database, source: str, at: str, status: str, info: FetchInfo, *,
    sha256: str | None = None, size: int | None = None, error: str | None = None,
) -> int:
    cursor = db.execute(
        "INSERT INTO fetches (source, at, recorded_at, status, url, http_status, etag,"
        " last_modified, bytes, sha256, error, ms, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, lower(hex(randomblob(8))))",
        [source, at, info.recorded_at, status, info.url, info.http_status, info.etag,
         info.last_modified, size, sha256, error, info.ms],
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _finish_fetch(db: Database, result: PollResult) -> None:
    notes = {name: value for name, value in (
        ("failed", result.failed), ("unknown", result.unknown), ("skipped", result.skipped),
        ("undated", result.undated)) if value}
    db.execute(
        "UPDATE fetches SET rows = ?, new_rows = ?, new_versions = ?, retracted = ?, restored = ?,"
        " rejected = ?, suspicious = ?, new_reports = ?, notes = ? WHERE id = ?",
        [result.rows, result.new_rows, result.new_versions, result.retracted, result.restored,
         json.dumps(result.rejected) if result.rejected else None,
         json.dumps(result.suspicious) if result.suspicious else None, result.new_reports,
         json.dumps(notes, sort_keys=True) if notes else None, result.fetch_id],
    )
