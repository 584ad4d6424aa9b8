"""One poll of one source: fetch (outside any lock) -> parse -> record and evaluate (one
write transaction). A poll catches its own failure, records it, and never stops the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sources as source_kinds
from resolver import clock, collector, log
from resolver.errors import ResolverError
from resolver.settings import Settings, Source
from sources.base import PayloadError, Snapshot
from sources.fetch import Fetched, Fetcher, FetchError
from state import payloads
from state import predictions as store
from state.db import Database, write
from state.polls import (
    FetchInfo,
    PollResult,
    last_poll_at,
    last_success,
    record_failure,
    record_snapshot,
    record_unchanged,
)

if TYPE_CHECKING:
    from resolver.lifecycle import Change


@dataclass
class Outcome:
    poll: PollResult
    changes: list[Change]


def make_fetcher(settings: Settings) -> Fetcher:
    return Fetcher(user_agent=settings.user_agent, timeout=settings.http_timeout,
                   max_bytes=settings.max_payload)


def poll(db: Database, settings: Settings, source: Source, *, fetcher: Fetcher | None = None,
         at: str | None = None, from_file: Path | None = None) -> Outcome:
    """Poll ``source`` now (or ingest ``from_file`` as a poll made ``at``) and evaluate."""
    with collector.paused():
        return _poll(db, settings, source, fetcher=fetcher, at=at, from_file=from_file)


def poll_bytes(db: Database, settings: Settings, source: Source, body: bytes, *, at: str,
               url: str) -> Outcome:
    """Ingest ``body`` as a poll of ``source`` made ``at`` (from ``url``) and evaluate, as
    ``poll(..., from_file=...)`` does with a file's bytes: how ``resolver verify`` replays
    archived payloads."""
    with collector.paused():
        return _poll(db, settings, source, fetcher=None, at=at, from_file=None,
                     given=Fetched(url, body))


def _poll(db: Database, settings: Settings, source: Source, *, fetcher: Fetcher | None,
          at: str | None, from_file: Path | None, given: Fetched | None = None) -> Outcome:
    started = time.perf_counter()
    if at is not None:
        _check_order(db, source.name, at)  # early, before any work; again under the lock
    module = source_kinds.kind(source.kind)
    last = last_success(db, source.name)
    fetched: Fetched | None = None
    error: str | None = None
    if given is not None:
        url, fetched = given.url, given
    elif from_file is not None:
        url = f"file:{from_file.resolve()}"
        if not from_file.is_file():
            raise ResolverError(f"{from_file}: no such file")
        try:
            size = from_file.stat().st_size
            if size > settings.max_payload:
                raise ResolverError(f"{from_file}: {size:,} bytes is over max_payload "
                                    f"({settings.max_payload:,} bytes)")
            fetched = Fetched(url, from_file.read_bytes())
        except OSError as problem:
            raise ResolverError(f"cannot read {from_file}: {problem.strerror}") from None
    else:
        url = source.url
        own = fetcher or make_fetcher(settings)
        try:
            fetched = own.fetch(url, etag=last["etag"] if last else None,
                                last_modified=last["last_modified"] if last else None)
        except FetchError as problem:
            error = problem.reason
        except Exception as problem:  # a fetch never stops the other sources (DESIGN 15)
            error = f"fetch failed: {_describe(problem)}"
        finally:
            if fetcher is None:
                own.close()
    info = FetchInfo(url=fetched.url if fetched else url, recorded_at=clock.now(),
                     http_status=fetched.http_status if fetched else None,
                     etag=fetched.etag if fetched else None,
                     last_modified=fetched.last_modified if fetched else None,
                     ms=round((time.perf_counter() - started) * 1000))
    snapshot = sha = packing = None
    if fetched is not None and fetched.body is not None:
        sha = payloads.sha256(fetched.body)
        if last is None or sha != last["sha256"]:
            try:
                snapshot = module.parse(fetched.body, fetched.headers,
                                        max_bytes=settings.max_payload,
                                        options=source.options)
            except PayloadError as problem:
                error = f"unusable payload: {problem.reason}"
            except Exception as problem:  # any parser failure is a failed fetch
                error = f"unusable payload: {_describe(problem)}"
            else:
                packing = payloads.Packing(fetched.body)
    elif fetched is not None and last is None:
        error = "HTTP 304 Not Modified, but no earlier payload is stored"
    if error is not None:
        snapshot = packing = None
    try:
        with write(db):
            # A live poll takes its time when it commits, under the write lock, so that two
            # polls of one source can never commit out of order (DESIGN section 4).
            when = at or _live_time(db, source.name)
            _check_order(db, source.name, when)
            result, changes = _record(db, settings, source, when, info, error, fetched,
                                      snapshot, packing, sha)
    except (ResolverError, sqlite3.DatabaseError):
        raise
    except Exception as problem:  # a bug while ingesting: recorded, never a lost poll
        with write(db):
            when = at or _live_time(db, source.name)
            result = record_failure(db, source=source.name, at=when, info=info,
                                    error=f"could not ingest: {_describe(problem)}")
        changes = []
    _log(result, changes, started)
    return Outcome(result, changes)


def _live_time(db: Database, source: str) -> str:
    """Now, or the source's last poll if the clock went back: time only moves forward."""
    return max(clock.now(), last_poll_at(db, source) or "")


def _check_order(db: Database, source: str, when: str) -> None:
    previous = last_poll_at(db, source)
    if previous is not None and when < previous:
        raise ResolverError(f"{source} was last polled at {previous}; a poll at {when} "
                            "would go back in time (replay files in date order)")


def _record(db: Database, settings: Settings, source: Source, when: str, info: FetchInfo,
            error: str | None, fetched: Fetched | None, snapshot: Snapshot | None,
            packing: payloads.Packing | None, sha: str | None) -> tuple[PollResult,
                                                                         list[Change]]:
    if error is not None or fetched is None:
        result = record_failure(db, source=source.name, at=when, info=info,
                                error=error or "no payload")
    elif snapshot is not None and packing is not None and sha is not None:
        result = record_snapshot(db, source=source.name, at=when, info=info,
                                 size=packing.size, sha256=sha, snapshot=snapshot,
                                 undated=undate_future(snapshot, when))
    else:
        result = record_unchanged(db, source=source.name, at=when, info=info)
    changes: list[Change] = []
    # An unchanged poll moves only the predictions it can (a late outcome due, a confirmation,
    # a baseline, a retirement): with none there is nothing to evaluate, nor to import for it.
    pending = None if result.status != "unchanged" else store.pending(
        db, polled=frozenset({source.name}), bests=None, retired=settings.retired, at=when)
    if result.ok and (pending is None or pending):
        from resolver.lifecycle import Scope, evaluate

        scope = Scope.after_poll(source.name, changed=result.status == "ok")
        changes = evaluate(db, at=when, recorded_at=info.recorded_at, sources=settings.kinds,
                           retired=settings.retired, scope=scope, pending=pending)
    if packing is not None and sha is not None and result.status == "ok":
        payloads.store(db, packing, sha256=sha, at=when)
    return result, changes


def undate_future(snapshot: Snapshot, when: str) -> list[dict[str, str]]:
    """A result cannot predate its own publication: a result date later than the day after
    the poll is not parseable (the row is kept, undated, and reported; DESIGN section 2)."""
    limit = (dt.date.fromisoformat(when[:10]) + dt.timedelta(days=1)).isoformat()
    undated = []
    for observation in snapshot.observations:
        date = observation.result_date
        if date is not None and date > limit:
            undated.append({"benchmark": observation.benchmark, "key": observation.key,
                            "subject": observation.subject,
                            "reason": f"result date {date} is after the poll"})
            observation.result_date = None
    return undated


def _describe(problem: BaseException) -> str:
    text = " ".join(str(problem).split())[:300]
    return f"{type(problem).__name__}: {text}" if text else type(problem).__name__


def _log(result: PollResult, changes: list[Change], started: float) -> None:
    ms = round((time.perf_counter() - started) * 1000)
    level = logging.WARNING if not result.ok else logging.INFO
    log.event("poll", level=level, source=result.source, at=result.at, status=result.status,
              rows=result.rows or None, new=result.new_rows or None,
              versions=result.new_versions or None, reports=result.new_reports or None,
              retracted=result.retracted or None,
              restored=result.restored or None, rejected=len(result.rejected) or None,
              suspicious=",".join(s["benchmark"] for s in result.suspicious) or None,
              sha256=result.sha256[:12] if result.sha256 else None, error=result.error, ms=ms)
    for rejection in result.rejected:
        log.event("rejected", level=logging.WARNING, source=result.source, **rejection)
    for row in result.undated:
        log.event("undated", level=logging.WARNING, source=result.source, **row)
    for change in changes:
        log_change(change)


def log_change(change: Change) -> None:
    fields: dict[str, Any] = {"id": change.prediction_id}
    if change.kind == "status":
        fields.update({"from": change.from_status, "to": change.to_status,
                       "outcome": change.outcome})
    fields.update(at=change.at, reason=change.reason)
    log.event("prediction" if change.kind == "status" else change.kind, **fields)
