"""Verifiable resolutions (DESIGN section 14): ``resolver verify`` checks the event chain
and that no event was deleted, then re-derives each prediction's events from the archived
payloads of its source (``resolver.rederive``) and reports what it found.

The store (``verify_store``) and a bundle (``resolver.export``) supply the same ``History``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from resolver import __version__
from resolver.errors import NotFound
from resolver.rederive import ArchivedPoll, History, Unreadable, Verdict, rederive
from resolver.settings import Settings
from state import chain, payloads
from state import predictions as store
from state.db import Database
from state.records import JSON, Prediction
from state.rows import polls_as_of

EXIT_DIVERGED = 4
_ALWAYS = "9999-12-31T23:59:59Z"  # later than any poll


@dataclass(slots=True)
class Report:
    """What ``resolver verify`` found: the chain, then one verdict per prediction."""

    head: chain.Head
    chain_problems: list[str]
    verdicts: list[Verdict]
    origin: str | None = None  # a bundle: what it says about itself
    bundle_problems: list[str] = field(default_factory=list)  # payloads altered or missing

    @property
    def ok(self) -> bool:
        return (not self.chain_problems and not self.bundle_problems
                and all(v.ok for v in self.verdicts))

    def lines(self) -> list[str]:
        lines = [self.origin] if self.origin else []
        if self.chain_problems:
            lines += [f"chain: BROKEN: {problem}" for problem in self.chain_problems]
        elif self.origin:
            # A bundle holds one prediction's events: their links are checked, but the head
            # of the whole log is what its manifest says; hold it to a digest you kept.
            lines.append(f"chain: the bundle's events link up; the manifest states {self.head}"
                         " (compare it with a digest you kept)")
        else:
            lines.append(f"chain: ok, {self.head}")
        lines += [f"bundle: BROKEN: {problem}" for problem in self.bundle_problems]
        lines += [verdict.line() for verdict in self.verdicts]
        return lines

    def to_json(self) -> JSON:
        return {"ok": self.ok, "resolver_version": __version__, "origin": self.origin,
                "chain": {"ok": not self.chain_problems, **self.head.to_json(),
                          "problems": self.chain_problems},
                "bundle_problems": self.bundle_problems,
                "predictions": [verdict.to_json() for verdict in self.verdicts]}


# -- the store ---------------------------------------------------------------------------------


def verify_store(db: Database, settings: Settings, ids: tuple[str, ...] = (),
                 progress: Callable[[int], None] | None = None) -> Report:
    """Check the chain of the whole log, then re-derive ``ids`` (default: every prediction)."""
    problems: list[str] = []
    broken = chain.check(chain.rows(db))
    if broken is not None:
        problems.append(str(broken))
    for prediction_id, counted, logged, highest in store.event_counts(db):
        problems.append(f"{prediction_id}: the prediction counts {counted} events, the log "
                        f"holds {logged} numbered up to #{highest}: an event was deleted")
    chosen = [_get(db, pid) for pid in dict.fromkeys(ids)] if ids else store.all_(db)
    kinds = settings.source_kinds()
    histories = [history_of(db, p, kinds.get(p.source or "")) for p in chosen]
    verdicts = rederive(histories, lambda sha: load_payload(db, sha), settings, progress)
    return Report(chain.head(db), problems, verdicts)


def _get(db: Database, prediction_id: str) -> Prediction:
    prediction = store.get(db, prediction_id)
    if prediction is None:
        raise NotFound(f"no prediction with id {prediction_id!r}")
    return prediction


def load_payload(db: Database, sha: str) -> bytes:
    """A payload's raw bytes, checked against its sha256; Unreadable if they are not."""
    try:
        full, body = payloads.load(db, sha)
    except payloads.UnknownSnapshot as error:
        raise Unreadable(str(error)) from None
    except Exception as error:  # damaged compressed bytes (zlib.error)
        raise Unreadable(f"snapshot {sha} cannot be read back: {error}") from None
    if full != sha:  # pragma: no cover - load() looks the full sha up
        raise Unreadable(f"no snapshot with sha256 {sha}")
    return body


def archived_polls(db: Database, source: str) -> list[tuple[int, ArchivedPoll]]:
    """(fetch id, poll) for every successful poll of ``source``, in order."""
    result: list[tuple[int, ArchivedPoll]] = []
    previous: str | None = None
    for poll in polls_as_of(db, source, _ALWAYS):
        if poll.sha256 is None:  # pragma: no cover - a successful poll names its payload
            continue
        status: Literal["ok", "unchanged"] = "unchanged" if poll.sha256 == previous else "ok"
        result.append((poll.fetch_id, ArchivedPoll(poll.at, status, poll.sha256)))
        previous = poll.sha256
    return result


def history_of(db: Database, prediction: Prediction, kind: str | None) -> History:
    rows = list(chain.rows(db, prediction.id))
    events = [store.event_from_row(row) for row in rows]
    versions = [row["resolver_version"] for row in rows]
    if prediction.manual or prediction.source is None:
        return History(prediction, None, [], 0, events, versions)
    polls = archived_polls(db, prediction.source)
    after = store.registered_after(db, prediction.id)
    before = sum(1 for fetch_id, _ in polls if fetch_id <= after)
    return History(prediction, kind, [poll for _, poll in polls], before, events, versions)
