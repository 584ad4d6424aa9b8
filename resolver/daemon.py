"""The daemon: APScheduler 3 with one worker, so every write is serialised.

Jobs: a poll per enabled source at its ``every`` (first one at start), the digest at
``digest_cron`` in ``timezone``, and a heartbeat file that ``resolver health`` reads.
SIGTERM stops it: no new job starts, a running poll gets a few seconds to finish (its
transaction is rolled back otherwise), and the process exits 0 within 10 seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from resolver import clock, heartbeat, log, poller
from resolver.errors import ResolverError
from resolver.settings import Settings, Source
from sources.fetch import Fetcher
from state import files
from state.db import Database, open_db

STOP_GRACE_SECONDS = 7.0


def import_prediction_files(db: Database, settings: Settings) -> list[tuple[str, str]]:
    """Register the configured predictions files; a bad file is logged and skipped."""
    from resolver import register

    problems = []
    for path in settings.predictions_files:
        try:
            added, _ = register.save(db, register.read_file(settings, path),
                                     sources=settings.kinds)
        except ResolverError as error:
            problems.append((str(path), str(error)))
            if files.record(db, str(path), str(error), at=clock.now()):  # once per change
                log.event("predictions-file", level=logging.WARNING, file=str(path),
                          error=str(error))
            continue
        if files.record(db, str(path), None, at=clock.now()):
            log.event("predictions-file", file=str(path), state="ok")
        if added:
            log.event("predictions-file", file=str(path), registered=added)
    return problems


def run_once(settings: Settings, db: Database) -> list[tuple[str, str]]:
    """One cycle; returns (source, reason) for each source that failed."""
    return cycle(db, settings, catch_up=False)


def cycle(db: Database, settings: Settings, *, catch_up: bool,
          running: Callable[[], bool] = lambda: True) -> list[tuple[str, str]]:
    """Register the predictions files, poll every enabled source, then write the digests that
    are due and notify: polls come first, so a digest reflects them (DESIGN section 8).
    ``running`` turning false (the daemon is stopping) ends the cycle early."""
    from resolver import digest

    import_prediction_files(db, settings)
    enabled = [s for s in settings.resolved_sources().values() if s.enabled]
    failed = [(name, reason) for name, reason in poll_all(settings, enabled, running=running)
              if reason is not None]
    if not running():
        return failed
    for day in digest.due_dates(db, settings, now=dt.datetime.now(dt.UTC), catch_up=catch_up):
        if digest.write_once(db, settings, day):
            log.event("digest", date=day.isoformat())
    _notify(db, settings)
    return failed


POLLERS = 8  # sources polled at once in a cycle: an unreachable network costs one timeout


def poll_all(settings: Settings, chosen: list[Source], *,
             running: Callable[[], bool] = lambda: True) -> list[tuple[str, str | None]]:
    """Poll ``chosen`` sources, a few at once, each with its own connection to the store and
    its own fetcher (their writes still take turns: one write transaction at a time).
    Returns (source, why it failed or None) in the sources' order."""
    from concurrent.futures import ThreadPoolExecutor

    def one(source: Source) -> tuple[str, str | None]:
        if not running():
            return source.name, "not polled: the daemon is stopping"
        db = open_db(settings.state_dir)
        fetcher = poller.make_fetcher(settings)
        try:
            return poll_safely(db, settings, source, fetcher)
        finally:
            fetcher.close()
            db.conn.close()

    with ThreadPoolExecutor(max_workers=POLLERS, thread_name_prefix="poll") as pool:
        return list(pool.map(one, chosen))


def poll_safely(db: Database, settings: Settings, source: Source,
                fetcher: Fetcher) -> tuple[str, str | None]:
    """Poll one source; whatever happens to it (even a store error) never stops the others.
    Returns the source's name and why it failed, or None."""
    try:
        outcome = poller.poll(db, settings, source, fetcher=fetcher)
    except Exception as error:
        log.event("poll", level=logging.ERROR, source=source.name, status="failed",
                  error=f"{type(error).__name__}: {error}")
        return source.name, str(error) or type(error).__name__
    finally:
        _checkpoint(db)
    return source.name, None if outcome.poll.ok else (outcome.poll.error or "failed")


def _checkpoint(db: Database) -> None:
    """After a poll's commit: the main file gets the poll (DESIGN section 7). Never fails a
    poll: a busy or read-only store only delays it to the next one."""
    import sqlite3

    from state import wal

    try:
        wal.checkpoint(db)
    except sqlite3.Error as error:
        log.event("checkpoint", level=logging.WARNING, error=str(error))


def _notify(db: Database, settings: Settings) -> None:
    from resolver import notify

    notify.pending_changes(db, settings)  # changes at once, before health and digests
    notify.health_changes(db, settings)
    notify.pending_digests(db, settings)
    publish(db, settings)


_published: dict[str, tuple[int, int, int]] = {}  # per state dir: what its site came from


def publish(db: Database, settings: Settings) -> None:
    """Rewrite ``<state>/site`` (DESIGN section 13) when the store changed since the last
    write: a new event, a new payload or a digest (an unchanged poll rewrites nothing, so it
    stays cheap). A failure is one log line; it never stops a poll."""
    from resolver import site
    from state import change_alerts, digests, polls

    stamp = (change_alerts.latest_event(db), polls.latest_new_payload(db),
             len(digests.written_dates(db)))
    if _published.get(str(settings.state_dir)) == stamp:
        return
    try:
        written = site.write(db, settings, settings.state_dir / "site", bundles=False)
    except (OSError, ResolverError, sqlite3.Error) as error:
        log.event("site", level=logging.WARNING, error=f"{type(error).__name__}: {error}")
        return
    _published[str(settings.state_dir)] = stamp
    if written:
        log.event("site", files=written)


class Daemon:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = open_db(settings.state_dir)
        self.fetcher = poller.make_fetcher(settings)
        self.busy = threading.Lock()
        self.scheduler: Any = None
        self.page: Any = None

    def run(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        from resolver.schedule import cron_fields, trigger

        settings = self.settings
        scheduler = self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(1), "heartbeat": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=dt.UTC,
        )
        now = dt.datetime.now(dt.UTC)
        heartbeat.write(settings)
        scheduler.add_job(heartbeat.write, IntervalTrigger(seconds=settings.heartbeat_every),
                          args=[settings], executor="heartbeat", id="heartbeat")
        scheduler.add_job(self._start, next_run_time=now, id="start")
        for source in settings.resolved_sources().values():
            if source.enabled:
                scheduler.add_job(self._poll, IntervalTrigger(seconds=source.every),
                                  args=[source], id=f"poll:{source.name}",
                                  next_run_time=now + dt.timedelta(seconds=source.every))
        scheduler.add_job(self._digest, trigger(cron_fields(settings.digest_cron),
                                                settings.timezone), id="digest")
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if settings.http_port:
            from resolver.web import Page

            try:
                self.page = Page(settings)
            except OSError as error:
                raise ResolverError(
                    f"cannot serve the digest page on {settings.http_host}:{settings.http_port}:"
                    f" {error.strerror} (set RESOLVER_HTTP_PORT, or 0 to turn the page off)"
                ) from None
            self.page.start()
            log.event("http", url=f"http://{settings.http_host}:{self.page.port}/")
        enabled = [s.name for s in settings.resolved_sources().values() if s.enabled]
        log.event("start", state_dir=str(settings.state_dir), sources=",".join(enabled),
                  digest_cron=settings.digest_cron, timezone=settings.timezone)
        scheduler.start()
        if self.page is not None:
            self.page.stop()
        # The scheduler has stopped: give a running job a moment to finish.
        if self.busy.acquire(timeout=STOP_GRACE_SECONDS):
            self.busy.release()
            self.fetcher.close()
            log.event("stop", clean=True)
            return
        log.event("stop", clean=False, reason="a job was still running; its transaction is "
                  "rolled back and redone at the next start")
        logging.shutdown()
        os._exit(0)

    def _stop(self, signum: int, frame: Any) -> None:
        log.event("stopping", signal=signal.Signals(signum).name)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _guard(self, name: str, job: Any, *args: Any, **kwargs: Any) -> None:
        with self.busy:
            try:
                job(*args, **kwargs)
            except Exception as error:  # one job's failure never stops the daemon
                log.event("job-failed", level=logging.ERROR, job=name,
                          error=f"{type(error).__name__}: {error}")

    def _start(self) -> None:
        self._guard("start", cycle, self.db, self.settings, catch_up=True,
                    running=self._running)

    def _running(self) -> bool:
        return self.scheduler is None or bool(self.scheduler.running)

    def _poll(self, source: Source) -> None:
        def run() -> None:
            import_prediction_files(self.db, self.settings)
            self._poll_now(source)

        self._guard(f"poll:{source.name}", run)

    def _poll_now(self, source: Source) -> None:
        if not self._running():
            return
        poll_safely(self.db, self.settings, source, self.fetcher)
        _notify(self.db, self.settings)

    def _digest(self) -> None:
        def run() -> None:
            from resolver import digest

            for day in digest.due_dates(self.db, self.settings, now=dt.datetime.now(dt.UTC),
                                        catch_up=False):
                self._write_digest(day)

        self._guard("digest", run)

    def _write_digest(self, day: dt.date) -> None:
        from resolver import digest

        if digest.write_once(self.db, self.settings, day):
            log.event("digest", date=day.isoformat())
        _notify(self.db, self.settings)

