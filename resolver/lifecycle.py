"""The lifecycle (DESIGN section 4): every write that moves a prediction.

    open --crossing row--> provisional --confirmed--> resolved
    open --late poll, nothing crosses--> provisional (late outcome)
    provisional --evidence gone / late outcome broken--> open (evaluated again at once)
    open, provisional --source retired--> annulled
    any --a person--> resolved / annulled

``evaluate(db, at=...)`` runs inside one write transaction and appends events; it reads only
what polls at or before ``at`` saw, and never moves a prediction back in time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from resolver import clock
from resolver.claims import Claim, SourceKinds, parse_cached
from resolver.clock import add_days, add_hours
from resolver.errors import NotFound, ResolverError
from resolver.filters import format_number
from resolver.sota import Broken, Candidate, SourceView, Views, still_holds
from state import predictions as store
from state.db import Database, write
from state.records import (
    Baseline,
    Decision,
    LateDecision,
    LateEvidence,
    NewEvent,
    Outcome,
    Prediction,
    Proof,
    RowDecision,
    Status,
)
from state.rows import Poll


@dataclass(frozen=True)
class Change:
    prediction_id: str
    kind: Literal["status", "baseline"]
    from_status: Status | None
    to_status: Status | None
    outcome: Outcome | None
    at: str
    reason: str


def due(claim: Claim, late_days: int) -> str:
    """The instant from which a successful poll may give a claim its late outcome."""
    return add_days(claim.end.isoformat(), late_days)


def show(value: float, unit: str) -> str:
    """A value in an event's reason: two decimals at most, in the claim's unit (the event's
    evidence keeps the full value)."""
    return format_number(round(value, 2)) + ("" if unit == "pts" else unit)


@dataclass(frozen=True)
class Scope:
    """Which predictions an evaluation must look at. A poll whose payload changed can move
    any claim on its source; an unchanged poll only those whose late outcome is due; time
    alone can only complete a confirmation. ``everything()`` looks at all of them."""

    changed: frozenset[str] | None = None  # sources with new data; None: every source
    unchanged: frozenset[str] = frozenset()  # sources polled with the same payload

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    @classmethod
    def after_poll(cls, source: str, *, changed: bool) -> Scope:
        if changed:
            return cls(changed=frozenset({source}))
        return cls(changed=frozenset(), unchanged=frozenset({source}))


class Evaluator:
    def __init__(self, db: Database, *, at: str, recorded_at: str, sources: SourceKinds,
                 retired: Iterable[str] = ()) -> None:
        self.db = db
        self.at = at
        self.recorded_at = recorded_at
        self.sources = sources
        self.retired = set(retired)
        self.view = Views(db, at, kept=True)
        self.changes: list[Change] = []
        self._bests: dict[tuple[str, str], Candidate | None] = {}
        self._partitions: dict[str, str] = {}
        self._decisions: dict[tuple[int, str], RowDecision] = {}

    def best_in_window(self, p: Prediction, claim: Claim, view: SourceView) -> Candidate | None:
        """The claim's best row, shared by the claims of its partition (the same benchmark,
        filters, basis and window have the same state of the art)."""
        partition = self._partitions.get(p.claim) or self._partition(p.claim, claim)
        key = (claim.source, partition)
        if key not in self._bests:
            self._bests[key] = view.best_in_window(claim)
        return self._bests[key]

    def _partition(self, text: str, claim: Claim) -> str:
        """The partition as this version computes it (not as stored): once per claim text."""
        partition = self._partitions.get(text)
        if partition is None:
            partition = self._partitions[text] = claim.partition
        return partition

    def run(self, scope: Scope, pending: list[Prediction] | None = None) -> list[Change]:
        """``pending``: what ``store.pending`` gave the caller for this scope already."""
        if pending is None:
            polled = None if scope.changed is None else scope.changed | scope.unchanged
            bests: dict[str, float] = {}
            for source in sorted(scope.changed or ()):
                view = self.view(source)
                for partition, sample in store.open_partitions(self.db, source):
                    claim = parse_cached(sample, self.sources)
                    best = view.best_in_window(claim)
                    # The steps that follow share it, by the partition this version computes.
                    self._bests[(claim.source, self._partition(sample, claim))] = best
                    if best is not None:
                        bests[partition] = best.value
            pending = store.pending(self.db, polled=polled, bests=bests, retired=self.retired,
                                    at=self.at)
        for prediction in pending:
            self.step(prediction, parse_cached(prediction.claim, self.sources))
        return self.changes

    # -- the lifecycle of one prediction -------------------------------------------------

    def step(self, p: Prediction, claim: Claim) -> None:
        if p.source in self.retired:
            self._move(p, "annulled", None, f"source {p.source} is retired", None, None)
            return
        view = self.view(claim.source)
        if p.threshold is None and claim.multiple is not None:
            self.freeze_baseline(p, claim, view)
        if p.threshold is None:
            return  # the baseline is not frozen yet: the claim neither crosses nor times out
        if p.status == "provisional":
            self._provisional(p, claim, view, p.threshold)
        if _status(p) == "open" and self._open(p, claim, view, p.threshold):
            self._confirm(p, claim, view, upto=self.at)

    def freeze_baseline(self, p: Prediction, claim: Claim, view: SourceView) -> None:
        assert claim.sota_end is not None and claim.multiple is not None
        if self.at < claim.sota_end.isoformat():
            return  # the baseline's period has not ended: a later row may still set it
        best = view.best(claim, None, claim.sota_end)
        if best is None:
            return
        threshold = round(claim.multiple * best.value, 9)
        text = (f"{format_number(claim.multiple)} x {show(best.value, claim.unit)} "
                f"({best.version.subject}) = {show(threshold, claim.unit)}")
        proof = best.evidence(claim.source)
        baseline = Baseline(best.value, threshold, text, proof)
        reason = f"baseline sota@{claim.sota_last_day.isoformat()} frozen: {text}"
        store.append(self.db, NewEvent(p.id, "baseline", self.at, self.recorded_at, reason,
                                       evidence=proof), baseline=baseline)
        p.baseline, p.threshold = baseline, threshold
        self.changes.append(Change(p.id, "baseline", None, None, None, self.at, reason))

    def _open(self, p: Prediction, claim: Claim, view: SourceView, threshold: float) -> bool:
        """Move an open prediction to provisional if it crosses or its late outcome is due;
        True if it moved."""
        best = self.best_in_window(p, claim, view)
        if best is not None and claim.crosses(best.value, threshold):
            poll = view.polls[-1] if view.polls else None
            outcome: Outcome = "yes" if claim.crossing_is_yes else "no"
            word = "reached" if claim.crossing_is_yes else "broken"
            where = "" if best.row.key == best.version.subject else f"{best.row.key}, "
            reason = (f"{claim.benchmark} {show(best.value, claim.unit)} by "
                      f"{best.version.subject} ({where}dated {best.version.result_date})"
                      f": threshold {claim.op} {show(threshold, claim.unit)} {word}")
            deciding = self._decision(best, poll.at if poll else self.at)
            self._move(p, "provisional", outcome, reason, best.evidence(claim.source), deciding)
            return True
        late = self._late_poll(p, claim, view)
        if late is None:
            return False
        outcome = "no" if claim.crossing_is_yes else "yes"
        shown = (f"best {show(best.value, claim.unit)} by {best.version.subject}"
                 if best else "no qualifying row")
        reason = (f"window closed {claim.last_day.isoformat()} and {p.late_days} late days "
                  f"passed; {shown}, threshold {claim.op} {show(threshold, claim.unit)} "
                  "not crossed")
        found = best.evidence(claim.source) if best else None
        decision = LateDecision(best.row.id if best else None, late.at, late.sha256)
        self._move(p, "provisional", outcome, reason, LateEvidence(found, late.at, late.sha256),
                   decision)
        return True

    def _decision(self, best: Candidate, poll_at: str) -> RowDecision:
        """One decision object per row and poll: the claims it decides share its JSON."""
        key = (best.oid, poll_at)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = RowDecision(best.row.id, best.row.key, poll_at)
        return decision

    def _late_poll(self, p: Prediction, claim: Claim, view: SourceView) -> Poll | None:
        assert p.due is not None
        if p.due > self.at:
            return None
        # A poll after the prediction's latest move: a claim reopened long after its due date
        # takes its late outcome from a poll that saw the reopening, not an older one.
        since = max(p.due, p.status_at or "")
        for poll in view.polls[bisect.bisect_left(view.poll_times, since):]:
            if claim.benchmark not in poll.suspicious:
                return poll
        return None

    def _provisional(self, p: Prediction, claim: Claim, view: SourceView,
                     threshold: float) -> None:
        assert p.deciding is not None
        broken = still_holds(claim, p.deciding, view, threshold)
        if broken is None:
            self._confirm(p, claim, view, upto=self.at)
            return
        # Confirmation may have completed before this evaluation saw the change.
        self._confirm(p, claim, view, upto=self.at, strictly_before=True)
        if p.status == "provisional":
            self._move(p, "open", None, self._why(p, claim, broken, threshold), None, None)

    def _why(self, p: Prediction, claim: Claim, broken: Broken, threshold: float) -> str:
        key = p.deciding.key if isinstance(p.deciding, RowDecision) else None
        if broken.why == "crossed":
            best = broken.best
            assert best is not None
            return (f"a crossing row appeared: {show(best.value, claim.unit)} by "
                    f"{best.version.subject} ({best.row.key})")
        if broken.why == "gone":
            return f"the deciding row {key} is no longer in the store"
        if broken.why == "retracted":
            return f"the deciding row {key} was retracted by the source"
        if broken.why == "disqualified":
            assert broken.row is not None
            latest = broken.row.latest
            return (f"the deciding row {key} no longer qualifies (now {latest.value:g}, "
                    f"dated {latest.result_date}, {latest.subject})")
        assert broken.version is not None
        return (f"the deciding row {key} was revised to {show(broken.version.value, claim.unit)}"
                f", which no longer crosses {show(threshold, claim.unit)}")

    def _confirm(self, p: Prediction, claim: Claim, view: SourceView, *, upto: str,
                 strictly_before: bool = False) -> None:
        assert p.status_at is not None and p.confirm_polls is not None
        assert p.confirm_hours is not None
        since = p.deciding.poll_at if p.deciding else p.status_at
        polls = [poll.at for poll in view.polls
                 if poll.at >= since and (poll.at < upto if strictly_before else poll.at <= upto)]
        needed = p.confirm_polls
        if len(polls) < needed:
            return
        moment = max(add_hours(p.status_at, p.confirm_hours),
                     polls[needed - 1] if needed else p.status_at)
        if moment > upto:
            return
        held = sum(1 for poll_at in polls if poll_at <= moment)
        reason = (f"{p.outcome}: the evidence held for {p.confirm_hours:g}h "
                  f"and {held} polls of {claim.source}")
        proof = store.last_evidence(self.db, p.id, to_status="provisional")
        self._move(p, "resolved", p.outcome, reason, proof, p.deciding, at=moment)

    def _move(self, p: Prediction, status: Status, outcome: Outcome | None, reason: str,
              proof: Proof | None, deciding: Decision | None, *, at: str | None = None) -> None:
        when = at or self.at
        event = NewEvent(p.id, "status", when, self.recorded_at, reason, from_status=p.status,
                         to_status=status, outcome=outcome, evidence=proof)
        store.append(self.db, event, status=status, outcome=outcome, deciding=deciding)
        self.changes.append(Change(p.id, "status", p.status, status, outcome, when, reason))
        p.status, p.outcome, p.status_at, p.deciding = status, outcome, when, deciding


def _status(p: Prediction) -> Status:
    """A prediction's status now (a step may have moved it; read afresh for mypy)."""
    return p.status


def evaluate(db: Database, *, at: str, recorded_at: str, sources: SourceKinds,
             retired: Iterable[str] = (), scope: Scope | None = None,
             pending: list[Prediction] | None = None) -> list[Change]:
    """Evaluate the open and provisional predictions in ``scope`` (default: all) at ``at``
    (``pending``: those ``store.pending`` found for it already); the caller holds the write
    transaction."""
    evaluator = Evaluator(db, at=at, recorded_at=recorded_at, sources=sources, retired=retired)
    return evaluator.run(scope or Scope.everything(), pending)


def evaluate_now(db: Database, *, sources: SourceKinds, retired: Iterable[str],
                 at: str | None = None) -> list[Change]:
    """``resolver evaluate``: every prediction as of ``at`` (default now), never earlier than
    the latest event."""
    with write(db):
        latest = store.latest_event_at(db)
        # Now, taken under the lock: a poll that committed while this waited is not later.
        when = at or max(clock.now(), latest or "")
        if latest is not None and when < latest:
            raise ResolverError(f"the latest event is at {latest}; cannot evaluate at {when}, "
                                "which is earlier")
        return evaluate(db, at=when, recorded_at=clock.now(), sources=sources, retired=retired)


def freeze_baselines(db: Database, ids: Iterable[str], *, recorded_at: str,
                     sources: SourceKinds) -> list[Change]:
    """Freeze the sota@DATE baselines of newly registered claims whose data the store already
    has (the caller holds the write transaction); claims without it freeze at a later poll.
    A baseline frozen here is dated at the latest poll of its source, so a prediction's time
    still only moves forward."""
    from state.polls import last_success

    evaluators: dict[str, Evaluator | None] = {}
    changes: list[Change] = []
    for prediction_id in ids:
        p = store.get(db, prediction_id)
        if p is None or p.manual or p.baseline is not None:
            continue
        claim = parse_cached(p.claim, sources)
        if claim.multiple is None:
            continue
        if claim.source not in evaluators:
            last = last_success(db, claim.source)
            evaluators[claim.source] = None if last is None else Evaluator(
                db, at=last["at"], recorded_at=recorded_at, sources=sources)
        evaluator = evaluators[claim.source]
        if evaluator is not None:
            evaluator.freeze_baseline(p, claim, evaluator.view(claim.source))
            changes.extend(evaluator.changes)
            evaluator.changes.clear()
    return changes


def resolve_by_hand(db: Database, prediction_id: str, decision: Literal["yes", "no", "annul"],
                    *, note: str, by: str, override: bool) -> str:
    """``resolver resolve``: a person's decision, at now (or the latest event, if later)."""
    with write(db):
        p = store.get(db, prediction_id)
        if p is None:
            raise NotFound(f"no prediction with id {prediction_id!r}")
        if p.settled and not override:
            raise ResolverError(f"{prediction_id} is already {p.status}"
                                f"{' ' + p.outcome if p.outcome else ''}; "
                                "pass --override to change it")
        status: Status = "annulled" if decision == "annul" else "resolved"
        outcome: Outcome | None = None if decision == "annul" else decision
        at = max(clock.now(), store.latest_event_at(db) or "")
        event = NewEvent(prediction_id, "status", at, clock.now(), note, from_status=p.status,
                         to_status=status, outcome=outcome, by=by)
        store.append(db, event, status=status, outcome=outcome, deciding=p.deciding)
    return f"{status}{' ' + outcome if outcome else ''}"
