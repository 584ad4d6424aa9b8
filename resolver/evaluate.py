"""Evaluation: the state of the art per claim, and the lifecycle (DESIGN sections 3 and 4).

    open --crossing row--> provisional --confirmed--> resolved
    open --late poll, nothing crosses--> provisional (late outcome)
    provisional --evidence gone / late outcome broken--> open (evaluated again at once)
    open, provisional --source retired--> annulled

``evaluate(db, at=...)`` runs inside one write transaction and appends events; it reads only
what polls at or before ``at`` saw.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from resolver import claims
from resolver.claims import Claim
from resolver.clock import add_days, add_hours
from state import predictions as store
from state.rows import Poll, Row, Version, polls_as_of, rows_as_of


@dataclass(frozen=True)
class Change:
    prediction_id: str
    kind: str
    from_status: str | None
    to_status: str | None
    outcome: str | None
    at: str
    reason: str


@functools.lru_cache(maxsize=262144)
def _parse(text: str, sources: tuple[tuple[str, str], ...]) -> Claim:
    """Claims are immutable, so a process parses each normalized claim once."""
    return claims.parse(text, dict(sources))


def due(claim: Claim, late_days: int) -> str:
    """The instant from which a successful poll may give a claim its late outcome."""
    return add_days(claim.end.isoformat(), late_days)


@dataclass
class _Candidate:
    row: Row
    version: Version

    @property
    def value(self) -> float:
        return self.version.value


class SourceView:
    """Everything one source's polls at or before ``at`` saw, indexed for state-of-the-art
    queries: per (benchmark, filters), qualifying rows sorted by result date with a running
    maximum, so that a ``by`` window is one binary search."""

    def __init__(self, db: Database, source: str, at: str) -> None:
        self.source = source
        self.rows = rows_as_of(db, source, at)
        self.polls = polls_as_of(db, source, at)
        self.poll_times = [poll.at for poll in self.polls]
        self.by_id = {row.id: row for rows in self.rows.values() for row in rows}
        self._index: dict[tuple[Any, ...], tuple[list[str], list[_Candidate], list[int]]] = {}
        self._best: dict[tuple[Any, ...], _Candidate | None] = {}
        self._by_date: dict[str, tuple[list[_Candidate], list[int], dict[int, Any]]] = {}

    def _dated(self, benchmark: str) -> tuple[list[_Candidate], list[int], dict[int, Any]]:
        """The live rows of a benchmark that have a result date, sorted by it (once), with
        each row's attribute dict as a key into the distinct dicts (rows share them)."""
        dated = self._by_date.get(benchmark)
        if dated is None:
            rows = [_Candidate(row, row.versions[-1]) for row in self.rows.get(benchmark, ())
                    if not row.retracted and row.versions[-1].result_date is not None]
            rows.sort(key=lambda c: (c.version.result_date or "", c.row.key))
            keys = [id(c.version.attributes) for c in rows]
            distinct = {id(c.version.attributes): c.version.attributes for c in rows}
            dated = self._by_date[benchmark] = (rows, keys, distinct)
        return dated

    def _sorted(self, claim: Claim) -> tuple[list[str], list[_Candidate], list[int]]:
        key = (claim.benchmark, claim.row_filters)
        index = self._index.get(key)
        if index is None:
            rows, keys, distinct = self._dated(claim.benchmark)
            by_attributes = tuple(f for f in claim.row_filters if f.name != "model")
            by_subject = tuple(f for f in claim.row_filters if f.name == "model")
            if by_attributes:
                ok = {k: all(f.matches(a, "") for f in by_attributes) for k, a in distinct.items()}
                candidates = [c for c, k in zip(rows, keys, strict=True) if ok[k]]
            else:
                candidates = list(rows)
            if by_subject:
                candidates = [c for c in candidates if all(
                    f.matches(c.version.attributes, c.version.subject) for f in by_subject)]
            dates = [c.version.result_date or "" for c in candidates]
            running: list[int] = []  # index of the best candidate among the first i+1
            best_value, best_at = -math.inf, -1
            for i, candidate in enumerate(candidates):
                if candidate.version.value > best_value:
                    best_value, best_at = candidate.version.value, i
                running.append(best_at)
            index = self._index[key] = (dates, candidates, running)
        return index

    def best(self, claim: Claim, start: dt.date | None, end: dt.date) -> _Candidate | None:
        """The qualifying row with the highest value in [start, end). Claims that share a
        benchmark, filters, date basis and window share the answer."""
        key = (claim.benchmark, claim.row_filters, claim.basis, start, end)
        if key not in self._best:
            self._best[key] = self._find_best(claim, start, end)
        return self._best[key]

    def _find_best(self, claim: Claim, start: dt.date | None,
                   end: dt.date) -> _Candidate | None:
        if claim.basis == "first-seen":
            return self._best_first_seen(claim, start, end)
        dates, candidates, running = self._sorted(claim)
        stop = bisect.bisect_left(dates, end.isoformat())
        if start is None:
            return candidates[running[stop - 1]] if stop else None
        first = bisect.bisect_left(dates, start.isoformat())
        window = candidates[first:stop]
        return max(window, key=lambda c: c.value) if window else None

    def _best_first_seen(self, claim: Claim, start: dt.date | None,
                         end: dt.date) -> _Candidate | None:
        low, high = (start.isoformat() if start else ""), end.isoformat()
        best = None
        for row in self.rows.get(claim.benchmark, ()):
            if row.retracted:
                continue
            # The row counts with its latest version first seen inside the window.
            for version in reversed(row.versions):
                if version.first_seen < high:
                    if (version.first_seen >= low and (best is None or version.value > best.value)
                            and _passes(claim, version)):
                        best = _Candidate(row, version)
                    break
        return best


def _passes(claim: Claim, version: Version) -> bool:
    return all(f.matches(version.attributes, version.subject) for f in claim.row_filters)


def qualifying_version(claim: Claim, row: Row, start: dt.date | None,
                       end: dt.date) -> Version | None:
    """The version of ``row`` that counts for ``claim`` in [start, end), if any."""
    if row.retracted:
        return None
    if claim.basis == "first-seen":
        low = start.isoformat() if start else ""
        high = end.isoformat()
        for version in reversed(row.versions):
            if low <= version.first_seen < high:
                return version if _passes(claim, version) else None
        return None
    version = row.latest
    date = version.result_date
    if date is None or date >= end.isoformat() or (start and date < start.isoformat()):
        return None
    return version if _passes(claim, version) else None


def evidence(candidate: _Candidate | None, source: str) -> dict[str, Any] | None:
    if candidate is None:
        return None
    row, version = candidate.row, candidate.version
    return {
        "source": source, "benchmark": row.benchmark, "key": row.key,
        "subject": version.subject, "value": version.value, "version": version.n,
        "result_date": version.result_date, "first_seen": version.first_seen,
        "url": version.url, "snapshot_sha256": version.sha256,
    }


def deciding_row(proof: dict[str, Any] | None) -> dict[str, Any] | None:
    """The row an event's evidence names: the evidence itself, or for a late outcome
    (``{"row": ..., "poll": ...}``) its best qualifying row, if any."""
    if not proof:
        return None
    if "poll" in proof:
        row: dict[str, Any] | None = proof.get("row")
        return row
    return proof


def _show(value: float, unit: str) -> str:
    return claims.format_number(round(value, 6)) + unit


@dataclass
class _Prediction:
    record: dict[str, Any]
    claim: Claim
    changes: list[Change] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.record["id"])


class Evaluator:
    def __init__(self, db: Database, *, at: str, recorded_at: str,
                 sources: Mapping[str, str], retired: Iterable[str] = ()) -> None:
        self.db = db
        self.at = at
        self.recorded_at = recorded_at
        self.sources = tuple(sorted(sources.items()))
        self.retired = set(retired)
        self.views: dict[str, SourceView] = {}

    def view(self, source: str) -> SourceView:
        view = self.views.get(source)
        if view is None:
            view = self.views[source] = SourceView(self.db, source, self.at)
        return view

    def run(self, scope: Scope) -> list[Change]:
        changes: list[Change] = []
        polled = None if scope.changed is None else scope.changed | scope.unchanged
        bests: dict[str, float] = {}
        for source in sorted(scope.changed or ()):
            view = self.view(source)
            for partition, sample in store.open_partitions(self.db, source):
                claim = _parse(sample, self.sources)
                best = view.best(claim, claim.start, claim.end)
                if best is not None:
                    bests[partition] = best.value
        for record in store.pending(self.db, polled=polled, bests=bests, retired=self.retired,
                                    at=self.at):
            prediction = _Prediction(record, _parse(record["claim"], self.sources))
            self.step(prediction)
            changes.extend(prediction.changes)
        return changes

    # -- the lifecycle of one prediction -------------------------------------------------

    def step(self, p: _Prediction) -> None:
        if p.record["source"] in self.retired:
            self._move(p, "annulled", None, f"source {p.record['source']} is retired", None, None)
            return
        view = self.view(p.claim.source)
        if p.record["baseline"] is None and p.claim.multiple is not None:
            self.freeze_baseline(p, view)
        threshold = self._threshold(p)
        if threshold is None:
            return  # the baseline is not frozen yet: the claim neither crosses nor times out
        if p.record["status"] == "provisional":
            self._provisional(p, view, threshold)
        if p.record["status"] == "open":
            self._open(p, view, threshold)
            if p.record["status"] == "provisional":
                self._confirm(p, view, upto=self.at)

    def _threshold(self, p: _Prediction) -> float | None:
        if p.claim.threshold is not None:
            return p.claim.threshold
        baseline = p.record["baseline"]
        if baseline is None:
            return None
        return float(baseline["threshold"])

    def freeze_baseline(self, p: _Prediction, view: SourceView) -> None:
        claim = p.claim
        assert claim.sota_end is not None and claim.multiple is not None
        best = view.best(claim, None, claim.sota_end)
        if best is None:
            return
        threshold = round(claim.multiple * best.value, 9)
        unit = claim.unit
        text = (f"{claims.format_number(claim.multiple)} x {_show(best.value, unit)} "
                f"({best.version.subject}) = {_show(threshold, unit)}")
        proof = evidence(best, claim.source)
        baseline = {"value": best.value, "threshold": threshold, "text": text, "evidence": proof}
        event = store.Event(p.id, "baseline", self.at, self.recorded_at,
                            f"baseline sota@{claim.sota_last_day.isoformat()} frozen: {text}",
                            evidence=proof)
        store.append(self.db, event, baseline=baseline)
        p.record["baseline"] = baseline
        p.changes.append(Change(p.id, "baseline", None, None, None, self.at, event.reason))

    def _open(self, p: _Prediction, view: SourceView, threshold: float) -> None:
        claim = p.claim
        best = view.best(claim, claim.start, claim.end)
        poll = view.polls[-1] if view.polls else None
        if best is not None and claim.crosses(best.value, threshold):
            outcome = "yes" if claim.crossing_is_yes else "no"
            word = "reached" if claim.crossing_is_yes else "broken"
            where = "" if best.row.key == best.version.subject else f"{best.row.key}, "
            reason = (f"{claim.benchmark} {_show(best.value, claim.unit)} by "
                      f"{best.version.subject} ({where}dated {best.version.result_date})"
                      f": threshold {claim.op} {_show(threshold, claim.unit)} {word}")
            deciding = {"observation_id": best.row.id, "key": best.row.key, "late": False,
                        "poll_at": poll.at if poll else self.at}
            self._move(p, "provisional", outcome, reason, evidence(best, claim.source), deciding)
            return
        late = self._late_poll(p, view)
        if late is None:
            return
        outcome = "no" if claim.crossing_is_yes else "yes"
        shown = (f"best {_show(best.value, claim.unit)} by {best.version.subject}"
                 if best else "no qualifying row")
        reason = (f"window closed {(claim.end - dt.timedelta(days=1)).isoformat()} and "
                  f"{p.record['late_days']} late days passed; {shown}, threshold "
                  f"{claim.op} {_show(threshold, claim.unit)} not crossed")
        found = evidence(best, claim.source)
        deciding = {"observation_id": best.row.id if best else None, "late": True,
                    "poll_at": late.at, "snapshot_sha256": late.sha256}
        proof = {"row": found, "poll": {"at": late.at, "snapshot_sha256": late.sha256}}
        self._move(p, "provisional", outcome, reason, proof, deciding)

    def _late_poll(self, p: _Prediction, view: SourceView) -> Poll | None:
        if p.record["due"] > self.at:
            return None
        times = view.poll_times
        for poll in view.polls[bisect.bisect_left(times, p.record["due"]):]:
            if p.claim.benchmark not in poll.suspicious:
                return poll
        return None

    def _provisional(self, p: _Prediction, view: SourceView, threshold: float) -> None:
        deciding = p.record["deciding"] or {}
        claim = p.claim
        if deciding.get("late"):
            best = view.best(claim, claim.start, claim.end)
            broken = best is not None and claim.crosses(best.value, threshold)
            why = (f"a crossing row appeared: {_show(best.value, claim.unit)} by "
                   f"{best.version.subject} ({best.row.key})" if broken and best else "")
        else:
            row = view.by_id.get(deciding.get("observation_id", -1))
            version = qualifying_version(claim, row, claim.start, claim.end) if row else None
            broken = version is None or not claim.crosses(version.value, threshold)
            why = self._why_gone(p, row, version, threshold) if broken else ""
        if not broken:
            self._confirm(p, view, upto=self.at)
            return
        # Confirmation may have completed before this evaluation saw the change.
        self._confirm(p, view, upto=self.at, strictly_before=True)
        if p.record["status"] == "provisional":
            self._move(p, "open", None, why, None, None)

    def _why_gone(self, p: _Prediction, row: Row | None, version: Version | None,
                  threshold: float) -> str:
        key = (p.record["deciding"] or {}).get("key")
        if row is None:
            return f"the deciding row {key} is no longer in the store"
        if row.retracted:
            return f"the deciding row {key} was retracted by the source"
        if version is None:
            latest = row.latest
            return (f"the deciding row {key} no longer qualifies (now {latest.value:g}, "
                    f"dated {latest.result_date}, {latest.subject})")
        return (f"the deciding row {key} was revised to {_show(version.value, p.claim.unit)}, "
                f"which no longer crosses {_show(threshold, p.claim.unit)}")

    def _confirm(self, p: _Prediction, view: SourceView, *, upto: str,
                 strictly_before: bool = False) -> None:
        deciding = p.record["deciding"] or {}
        since = deciding.get("poll_at") or p.record["status_at"]
        polls = [poll.at for poll in view.polls
                 if poll.at >= since and (poll.at < upto if strictly_before else poll.at <= upto)]
        needed = int(p.record["confirm_polls"])
        if len(polls) < needed:
            return
        moment = max(add_hours(p.record["status_at"], float(p.record["confirm_hours"])),
                     polls[needed - 1] if needed else p.record["status_at"])
        if moment > upto:
            return
        held = sum(1 for poll_at in polls if poll_at <= moment)
        reason = (f"{p.record['outcome']}: the evidence held for {p.record['confirm_hours']:g}h "
                  f"and {held} polls of {p.claim.source}")
        proof = store.last_evidence(self.db, p.id, to_status="provisional")
        self._move(p, "resolved", p.record["outcome"], reason, proof, p.record["deciding"],
                   at=moment)

    def _move(self, p: _Prediction, status: str, outcome: str | None, reason: str,
              proof: dict[str, Any] | None, deciding: dict[str, Any] | None, *,
              at: str | None = None) -> None:
        when = at or self.at
        event = store.Event(p.id, "status", when, self.recorded_at, reason,
                            from_status=p.record["status"], to_status=status, outcome=outcome,
                            evidence=proof)
        store.append(self.db, event, status=status, outcome=outcome, deciding=deciding)
        p.changes.append(Change(p.id, "status", p.record["status"], status, outcome, when,
                                reason))
        p.record.update(status=status, outcome=outcome, status_at=when, deciding=deciding)


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


def evaluate(db: Database, *, at: str, recorded_at: str, sources: Mapping[str, str],
             retired: Iterable[str] = (), scope: Scope | None = None) -> list[Change]:
    """Evaluate the open and provisional predictions in ``scope`` (default: all) at ``at``;
    the caller holds the write transaction."""
    evaluator = Evaluator(db, at=at, recorded_at=recorded_at, sources=sources, retired=retired)
    return evaluator.run(scope or Scope.everything())


def corroboration(db: Database, claim: Claim, sources: Mapping[str, str],
                  at: str) -> list[dict[str, Any]]:
    """What the other sources of the claim's benchmark say for its window: shown beside a
    decision, never mixed into it. Filters that another source does not state are dropped
    (and said so)."""
    import sources as source_kinds

    result = []
    for name, kind in sources.items():
        if name == claim.source:
            continue
        attributes = source_kinds.benchmarks_of(name, kind).get(claim.benchmark)
        if attributes is None:
            continue
        kept = tuple(f for f in claim.row_filters if f.name == "model" or f.name in attributes)
        other = dataclasses.replace(claim, source=name, row_filters=kept)
        view = SourceView(db, name, at)
        result.append({"source": name, "filters_applied": kept == claim.row_filters,
                       "best": evidence(view.best(other, other.start, other.end), name)})
    return result


def freeze_baselines(db: Database, ids: Iterable[str], *, recorded_at: str,
                     sources: Mapping[str, str]) -> list[Change]:
    """Freeze the sota@DATE baselines of newly registered claims whose data the store already
    has (the caller holds the write transaction); claims without it freeze at a later poll.
    A baseline frozen here is dated at the latest poll of its source, so a prediction's time
    still only moves forward."""
    from state.polls import last_success

    evaluators: dict[str, Evaluator | None] = {}
    changes: list[Change] = []
    for prediction_id in ids:
        record = store.get(db, prediction_id)
        if record is None or record["claim"] == "manual" or record["baseline"] is not None:
            continue
        claim = _parse(record["claim"], tuple(sorted(sources.items())))
        if claim.multiple is None:
            continue
        if claim.source not in evaluators:
            last = last_success(db, claim.source)
            evaluators[claim.source] = None if last is None else Evaluator(
                db, at=last["at"], recorded_at=recorded_at, sources=sources)
        evaluator = evaluators[claim.source]
        if evaluator is None:
            continue
        prediction = _Prediction(record, claim)
        evaluator.freeze_baseline(prediction, evaluator.view(claim.source))
        changes.extend(prediction.changes)
    return changes


def state_of_the_art(db: Database, claim: Claim, at: str) -> dict[str, Any] | None:
    """The best qualifying row for a claim's window as of ``at`` (for ``show``)."""
    view = SourceView(db, claim.source, at)
    return evidence(view.best(claim, claim.start, claim.end), claim.source)

