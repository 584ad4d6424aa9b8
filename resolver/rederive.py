"""Re-deriving predictions (DESIGN section 14): replay the archived payloads of a source
through the current parsers and evaluator, and compare the derived events with the recorded
ones; ``resolver.verify`` (the store) and ``resolver.export`` (a bundle) supply the
``History`` of each prediction and report the ``Verdict``s.

Re-deriving one source is a replay into a scratch in-memory store: every successful poll of
the source, in order and at its time, goes through the current parsers and evaluator
(``poller.poll_bytes``); each prediction is registered again after the polls the store held
when it was registered (a relative baseline freezes then, dated at the latest of them); it
is evaluated again at each of those polls and at the ``at`` of each recorded time-driven
event. Manual events (``by`` set) and the annulments a retired source causes are inputs:
re-applied at their time, never derived. Derived events are compared with the recorded ones
on kind, from/to status, outcome, ``at``, who, and the evidence (source, benchmark, key,
version, subject, value, dates, snapshot; not the url, which names where a poll read its
bytes). The first difference is the divergence.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from resolver import __version__
from resolver.errors import ResolverError
from resolver.settings import Settings, SourceSettings
from resolver.sota import Views
from state import predictions as store
from state.db import Database, migrate, write
from state.records import JSON, Event, NewEvent, Prediction


@dataclass(frozen=True, slots=True)
class ArchivedPoll:
    """One successful poll of a source as recorded: its time and the payload it read."""

    at: str
    status: Literal["ok", "unchanged"]
    sha256: str

    def to_json(self) -> JSON:
        return {"at": self.at, "status": self.status, "sha256": self.sha256}


@dataclass(slots=True)
class History:
    """What re-deriving one prediction needs, from the store or from a bundle."""

    prediction: Prediction
    kind: str | None  # its source's kind; None for a manual claim
    polls: list[ArchivedPoll]  # of its source, in order
    registered_after: int  # how many of ``polls`` came before its registration
    events: list[Event]
    versions: list[str | None]  # the resolver version that recorded each event


class Unreadable(Exception):
    """An archived payload that is missing, or whose bytes do not hash to its name."""


PayloadReader = Callable[[str], bytes]


@dataclass(frozen=True, slots=True)
class Divergence:
    number: int  # 1-based: the prediction's event number (seq)
    what: str  # the first field that differs, or "missing" / "extra"
    recorded: Event | None
    derived: Event | None
    recorded_by: str | None

    def __str__(self) -> str:
        made = f" (recorded by resolver {self.recorded_by or 'unknown'})"
        return (f"event #{self.number} differs in {self.what}: recorded "
                f"{describe(self.recorded)}{made if self.recorded else ''}; derived by "
                f"resolver {__version__}: {describe(self.derived)}")

    def to_json(self) -> JSON:
        return {"event": self.number, "field": self.what,
                "recorded": _comparable(self.recorded), "derived": _comparable(self.derived),
                "recorded_by": self.recorded_by, "derived_by": __version__}


@dataclass(slots=True)
class Verdict:
    prediction_id: str
    events: int
    recorded_by: list[str]  # the distinct versions that recorded its events
    event_versions: list[str | None] = field(default_factory=list)  # per event, in order
    divergence: Divergence | None = None
    problem: str | None = None  # it could not be re-derived (a payload missing, ...)
    notes: list[str] = field(default_factory=list)  # polls the current parser refuses

    @property
    def ok(self) -> bool:
        return self.divergence is None and self.problem is None

    def line(self) -> str:
        if self.problem is not None:
            return f"{self.prediction_id}: CANNOT RE-DERIVE: {self.problem}"
        if self.divergence is not None:
            notes = "".join(f"; {note}" for note in self.notes)
            return f"{self.prediction_id}: DIVERGES at {self.divergence}{notes}"
        by = ", ".join(self.recorded_by) or "none"
        count = f"{self.events} event{'' if self.events == 1 else 's'}"
        return (f"{self.prediction_id}: ok ({count}; recorded by resolver {by}; derived by "
                f"resolver {__version__})")

    def to_json(self) -> JSON:
        return {"id": self.prediction_id, "ok": self.ok, "events": self.events,
                "recorded_by": self.recorded_by, "event_versions": self.event_versions,
                "derived_by": __version__,
                "divergence": self.divergence.to_json() if self.divergence else None,
                "problem": self.problem, "notes": self.notes}



# -- re-deriving ------------------------------------------------------------------------------


def rederive(histories: list[History], payload: PayloadReader, settings: Settings,
             progress: Callable[[int], None] | None = None) -> list[Verdict]:
    """A verdict for each history, in the order given; one replay per source. ``progress``
    is told how many predictions each replay settled (a progress bar)."""
    by_source: dict[str, list[History]] = {}
    verdicts: dict[str, Verdict] = {}
    for history in histories:
        p = history.prediction
        versions = sorted({v or "unknown" for v in history.versions})
        verdicts[p.id] = Verdict(p.id, len(history.events), versions, list(history.versions))
        if not p.manual and p.source is not None:
            by_source.setdefault(p.source, []).append(history)
    for source, group in by_source.items():
        try:
            derived, notes, problem = _replay(source, group, payload, settings)
        except Exception as error:  # an edited bundle must not end in a traceback
            derived, notes = {}, []
            problem = f"the replay of {source} failed: {type(error).__name__}: {error}"
        for history in group:
            verdict = verdicts[history.prediction.id]
            verdict.notes = notes
            if problem is not None:
                verdict.problem = problem
                continue
            verdict.divergence = compare(history, derived[history.prediction.id])
        if progress is not None:
            progress(len(group))
    return [verdicts[h.prediction.id] for h in histories]


def scratch_store() -> Database:
    """An empty store in memory, migrated like any other."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db = Database(conn)
    migrate(db)
    return db


def _scratch_settings(settings: Settings, source: str, kind: str | None) -> Settings:
    """The current settings' parsers and limits, with no source retired (a retirement's
    annulments are inputs) and the replayed source known even where it is not configured."""
    import sources as source_kinds

    builtin = {s.name for s in source_kinds.BUILTIN}
    declared = {name: SourceSettings(kind=s.kind, url=s.url)
                for name, s in settings.resolved_sources().items() if name not in builtin}
    if source not in builtin and source not in declared and kind is not None:
        declared[source] = SourceSettings(kind=kind, url=f"archive:{source}")
    return Settings.model_construct(state_dir=settings.state_dir,
                                    max_payload=settings.max_payload, sources=declared)


def _is_input(event: Event) -> bool:
    """A person's decision, or the annulment a retired source causes: not derived."""
    return event.by is not None or (event.kind == "status" and event.to_status == "annulled")


def _replay(source: str, group: list[History], payload: PayloadReader,
            settings: Settings) -> tuple[dict[str, list[Event]], list[str], str | None]:
    """Replay ``source`` once for every prediction of ``group``: the derived events per
    prediction, notes on polls the current parsers refuse, and a problem (or None)."""
    from resolver import poller

    polls = group[0].polls
    scratch_settings = _scratch_settings(settings, source, group[0].kind)
    configured = scratch_settings.resolved_sources().get(source)
    if configured is None:
        return {}, [], f"source {source!r} is not known to this resolver"
    db = scratch_store()
    times = [poll.at for poll in polls]
    steps = sorted(_steps(group, times), key=lambda step: step[0])
    notes: list[str] = []
    body: bytes | None = None
    body_sha: str | None = None
    cursor = 0
    with _quiet():
        for index in range(len(polls) + 1):
            views: dict[str, Views] = {}  # what the polls so far saw, per moment
            while cursor < len(steps) and steps[cursor][0][0] <= index:
                steps[cursor][1](db, scratch_settings, views)
                cursor += 1
            if index == len(polls):
                break
            poll = polls[index]
            if poll.sha256 != body_sha:
                try:
                    body, body_sha = payload(poll.sha256), poll.sha256
                except Unreadable as error:
                    return {}, notes, f"the payload of the poll at {poll.at}: {error}"
            assert body is not None
            try:
                outcome = poller.poll_bytes(db, scratch_settings, configured, body, at=poll.at,
                                            url=f"archive:{poll.sha256}")
            except ResolverError as error:  # polls out of order: an edited poll list
                return {}, notes, f"the poll at {poll.at} cannot be replayed: {error}"
            if not outcome.poll.ok:
                notes.append(f"the poll at {poll.at} now fails: {outcome.poll.error}")
    return {h.prediction.id: store.events(db, h.prediction.id) for h in group}, notes, None


_Action = Callable[[Database, Settings, dict[str, Views]], None]
_Step = tuple[tuple[int, int, str, int], _Action]


def _steps(group: list[History], times: list[str]) -> Iterator[_Step]:
    """What happens between polls, keyed by (polls before it, phase, time, order):
    registrations, then inputs and evaluations at recorded times, in time order."""
    order = 0
    for history in group:
        after = history.registered_after
        yield (after, 0, "", order), _register(history)
        order += 1
        for event in history.events:
            where = max(after, bisect.bisect_right(times, event.at))
            if _is_input(event):
                yield (where, 1, event.at, order), _apply(history, event)
            elif not (where > after and times[where - 1] == event.at):
                # (An event at a poll made after the registration: that poll's own
                # evaluation re-derives it.)
                yield (where, 1, event.at, order), _evaluate(history, event.at)
            order += 1


def _register(history: History) -> _Action:
    p = history.prediction
    fresh = dataclasses.replace(
        p, status="open", outcome=None, status_at=None, deciding=None, baseline=None,
        threshold=None if p.baseline is not None else p.threshold)

    def run(db: Database, settings: Settings, views: dict[str, Views]) -> None:
        from resolver.lifecycle import freeze_baselines

        with write(db):
            store.insert(db, fresh)
            freeze_baselines(db, [p.id], recorded_at=p.registered_at, sources=settings.kinds)

    return run


def _apply(history: History, event: Event) -> _Action:
    def run(db: Database, settings: Settings, views: dict[str, Views]) -> None:
        with write(db):
            now = store.get(db, history.prediction.id)
            assert now is not None
            again = NewEvent(now.id, event.kind, event.at, event.recorded_at, event.reason,
                             from_status=now.status, to_status=event.to_status,
                             outcome=event.outcome, evidence=event.evidence, by=event.by)
            with contextlib.suppress(store.OutOfOrder):  # derived events ran past it
                store.append(db, again, status=event.to_status, outcome=event.outcome,
                             deciding=now.deciding if event.by is not None else None)

    return run


def _evaluate(history: History, at: str) -> _Action:
    """Evaluate this one prediction at ``at``, as an evaluation of the live run did."""

    def run(db: Database, settings: Settings, views: dict[str, Views]) -> None:
        from resolver.claims import parse_cached
        from resolver.lifecycle import Evaluator

        with write(db):
            now = store.get(db, history.prediction.id)
            assert now is not None
            if now.manual or now.status not in ("open", "provisional"):
                return
            recorded = store.events(db, now.id)
            if recorded and recorded[-1].at > at:
                return  # time only moves forward, per prediction
            evaluator = Evaluator(db, at=at, recorded_at=at, sources=settings.kinds)
            evaluator.view = views.setdefault(at, evaluator.view)  # shared until the next poll
            evaluator.step(now, parse_cached(now.claim, settings.kinds))

    return run


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The replay's own poll and change lines are not news: keep them out of the output."""
    logger = logging.getLogger("resolver")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


# -- comparing ----------------------------------------------------------------------------------


_FIELDS = ("kind", "from_status", "to_status", "outcome", "at", "by", "evidence")


def compare(history: History, derived: list[Event]) -> Divergence | None:
    recorded = history.events
    for number, (mine, theirs) in enumerate(zip(recorded, derived, strict=False), 1):
        left, right = _comparable(mine), _comparable(theirs)
        for name in _FIELDS:
            if left[name] != right[name]:
                return Divergence(number, name, mine, theirs, history.versions[number - 1])
    if len(recorded) > len(derived):
        number = len(derived) + 1
        return Divergence(number, "missing", recorded[number - 1], None,
                          history.versions[number - 1])
    if len(derived) > len(recorded):
        number = len(recorded) + 1
        return Divergence(number, "extra", None, derived[number - 1], None)
    return None


def _comparable(event: Event | None) -> JSON:
    if event is None:
        return {}
    data = {name: getattr(event, name) for name in _FIELDS}
    data["evidence"] = _without_url(event.evidence.to_json()) if event.evidence else None
    return data


def _without_url(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_url(v) for k, v in data.items() if k != "url"}
    return data


def describe(event: Event | None) -> str:
    """One event, briefly: ``provisional yes at T (Verified/x v2 81.25, snapshot 52274d32e0aa)``."""
    if event is None:
        return "nothing"
    what = "baseline" if event.kind == "baseline" else str(event.to_status)
    outcome = f" {event.outcome}" if event.outcome else ""
    by = f" by {event.by}" if event.by else ""
    return f"{what}{outcome} at {event.at}{by}{_evidence(event)}"


def _evidence(event: Event) -> str:
    data = event.evidence.to_json() if event.evidence else None
    if not data:
        return ""
    if "poll" in data:
        poll = data["poll"]
        row = data["row"]
        shown = f"late, poll {poll['at']} {str(poll.get('snapshot_sha256'))[:12]}"
        if row:
            shown += f", best {row['key']} v{row['version']} {row['value']:g}"
        return f" ({shown})"
    return (f" ({data['key']} v{data['version']} {data['value']:g}, snapshot "
            f"{str(data['snapshot_sha256'])[:12]})")
