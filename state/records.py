"""The domain as it crosses the state boundary: typed records, read from and written to the
store by the modules of ``state/`` and used by everything above them.

    Prediction    one registered prediction and its lifecycle columns
    Event         one entry of its append-only event log (NewEvent: one to append)
    Evidence      the row version an event names (source, key, version, value, snapshot)
    LateEvidence  a late outcome's evidence: its deciding poll, and the best row if any
    Decision      what a provisional prediction rests on: RowDecision | LateDecision
    Baseline      a frozen ``sota@DATE`` baseline
    Bet           a bet on the outcome, and who pays whom

Each has ``to_json``/``from_json`` giving the shapes stored in the database and printed by
``--json`` (they are the same as before the records were typed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast

Status: TypeAlias = Literal["open", "provisional", "resolved", "annulled"]
Outcome: TypeAlias = Literal["yes", "no"]
EventKind: TypeAlias = Literal["status", "baseline"]
STATUSES: tuple[Status, ...] = ("open", "provisional", "resolved", "annulled")
MANUAL = "manual"  # the claim column of a manual prediction
JSON: TypeAlias = dict[str, Any]  # a decoded JSON object, at the edge where it is decoded


@dataclass(frozen=True, slots=True)
class Evidence:
    source: str
    benchmark: str
    key: str
    subject: str
    value: float
    version: int | None
    result_date: str | None
    first_seen: str
    url: str | None
    snapshot_sha256: str | None

    def to_json(self) -> JSON:
        return {"source": self.source, "benchmark": self.benchmark, "key": self.key,
                "subject": self.subject, "value": self.value, "version": self.version,
                "result_date": self.result_date, "first_seen": self.first_seen,
                "url": self.url, "snapshot_sha256": self.snapshot_sha256}

    @classmethod
    def from_json(cls, data: JSON) -> Evidence:
        return cls(data["source"], data["benchmark"], data["key"], data["subject"],
                   float(data["value"]), data.get("version"), data.get("result_date"),
                   data["first_seen"], data.get("url"), data.get("snapshot_sha256"))


@dataclass(frozen=True, slots=True)
class LateEvidence:
    """A late outcome: the deciding poll, and the best qualifying row then (or none)."""

    row: Evidence | None
    poll_at: str
    poll_sha256: str | None

    def to_json(self) -> JSON:
        return {"row": self.row.to_json() if self.row else None,
                "poll": {"at": self.poll_at, "snapshot_sha256": self.poll_sha256}}


Proof: TypeAlias = Evidence | LateEvidence


def proof_from_json(data: JSON | None) -> Proof | None:
    if not data:
        return None
    if "poll" in data:  # the stored shape of a late outcome
        row = data.get("row")
        return LateEvidence(Evidence.from_json(row) if row else None, data["poll"]["at"],
                            data["poll"].get("snapshot_sha256"))
    return Evidence.from_json(data)


def deciding_row(proof: Proof | None) -> Evidence | None:
    """The row an event's evidence names: the evidence itself, or a late outcome's best row."""
    return proof.row if isinstance(proof, LateEvidence) else proof


@dataclass(frozen=True, slots=True)
class RowDecision:
    """Provisional because this row crossed; it stays the deciding row."""

    observation_id: int
    key: str
    poll_at: str

    def to_json(self) -> JSON:
        return {"observation_id": self.observation_id, "key": self.key, "late": False,
                "poll_at": self.poll_at}


@dataclass(frozen=True, slots=True)
class LateDecision:
    """Provisional because the window closed and late_days passed at this poll."""

    observation_id: int | None
    poll_at: str
    snapshot_sha256: str | None

    def to_json(self) -> JSON:
        return {"observation_id": self.observation_id, "late": True, "poll_at": self.poll_at,
                "snapshot_sha256": self.snapshot_sha256}


Decision: TypeAlias = RowDecision | LateDecision


def decision_from_json(data: JSON | None) -> Decision | None:
    if not data:
        return None
    if data.get("late"):
        return LateDecision(data.get("observation_id"), data["poll_at"],
                            data.get("snapshot_sha256"))
    return RowDecision(int(data["observation_id"]), str(data["key"]), data["poll_at"])


@dataclass(frozen=True, slots=True)
class Baseline:
    value: float
    threshold: float
    text: str
    evidence: Evidence | None

    def to_json(self) -> JSON:
        return {"value": self.value, "threshold": self.threshold, "text": self.text,
                "evidence": self.evidence.to_json() if self.evidence else None}

    @classmethod
    def from_json(cls, data: JSON) -> Baseline:
        proof = data.get("evidence")
        return cls(float(data["value"]), float(data["threshold"]), str(data["text"]),
                   Evidence.from_json(proof) if proof else None)


@dataclass(frozen=True, slots=True)
class Settlement:
    yes: str
    no: str
    stake: str
    payer: str
    payee: str

    def to_json(self) -> JSON:
        return {"yes": self.yes, "no": self.no, "stake": self.stake, "payer": self.payer,
                "payee": self.payee}


@dataclass(frozen=True, slots=True)
class Bet:
    yes: str
    no: str
    stake: str
    annulled_payer: str | None = None
    annulled_stake: str | None = None

    def to_json(self) -> JSON:
        data: JSON = {"yes": self.yes, "no": self.no, "stake": self.stake}
        if self.annulled_payer is not None:
            data["if_annulled"] = {"payer": self.annulled_payer, "stake": self.annulled_stake}
        return data

    @classmethod
    def from_json(cls, data: JSON) -> Bet:
        annulled = data.get("if_annulled") or {}
        return cls(data["yes"], data["no"], data["stake"], annulled.get("payer"),
                   annulled.get("stake"))

    def settle(self, status: Status, outcome: Outcome | None) -> Settlement | None:
        """Who pays whom once resolved or annulled; None while it is not, or when an
        annulment settles nothing (no ``if_annulled``)."""
        if status == "annulled":
            if self.annulled_payer is None or self.annulled_stake is None:
                return None
            payer = self.annulled_payer
            payee = self.no if payer == self.yes else self.yes
            return Settlement(self.yes, self.no, self.annulled_stake, payer, payee)
        if status != "resolved":
            return None
        payee, payer = (self.yes, self.no) if outcome == "yes" else (self.no, self.yes)
        return Settlement(self.yes, self.no, self.stake, payer, payee)


@dataclass(slots=True)
class Prediction:
    """A registered prediction. Its id, claim, probability, bet and timing never change; the
    lifecycle fields (status .. baseline, threshold) move with its events."""

    id: str
    claim: str  # the normalized claim, or MANUAL
    raw: str
    source: str | None
    benchmark: str | None
    late_days: int | None
    confirm_hours: float | None
    confirm_polls: int | None
    deadline: str | None  # manual claims: the last day of the deadline's period
    criteria: str | None
    probability: float | None
    bet: Bet | None
    title: str | None
    author: str | None
    url: str | None
    quote: str | None
    registered_at: str
    status: Status = "open"
    outcome: Outcome | None = None
    status_at: str | None = None
    deciding: Decision | None = None
    baseline: Baseline | None = None
    due: str | None = None  # when a successful poll may give the late outcome
    op: str | None = None
    threshold: float | None = None  # absolute, or the frozen baseline's; None until frozen
    partition: str | None = None
    made: str | None = None  # when the claim was made public (a date); None: at registration
    notify: tuple[str, ...] = ()  # Apprise URLs told of this prediction's changes only

    @property
    def made_at(self) -> str:
        """When the claim was made: ``made``, else its registration (DESIGN section 6)."""
        return self.made or self.registered_at

    @property
    def manual(self) -> bool:
        return self.claim == MANUAL

    @property
    def settled(self) -> bool:
        return self.status in ("resolved", "annulled")


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    prediction_id: str
    seq: int
    kind: EventKind
    from_status: Status | None
    to_status: Status | None
    outcome: Outcome | None
    at: str
    recorded_at: str
    reason: str
    evidence: Proof | None
    by: str | None

    def to_json(self) -> JSON:
        return {"id": self.id, "prediction_id": self.prediction_id, "seq": self.seq,
                "kind": self.kind, "from_status": self.from_status,
                "to_status": self.to_status, "outcome": self.outcome, "at": self.at,
                "recorded_at": self.recorded_at, "reason": self.reason,
                "evidence": self.evidence.to_json() if self.evidence else None, "by": self.by}


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append; the store numbers it (``seq``) and gives it its row id."""

    prediction_id: str
    kind: EventKind
    at: str
    recorded_at: str
    reason: str
    from_status: Status | None = None
    to_status: Status | None = None
    outcome: Outcome | None = None
    evidence: Proof | None = None
    by: str | None = None


def loads(text: str | None) -> JSON | None:
    return cast(JSON, json.loads(text)) if text else None


_SORTED = json.JSONEncoder(sort_keys=True)  # json.dumps(data, sort_keys=True), built once


def dumps(data: JSON | None) -> str | None:
    return _SORTED.encode(data) if data is not None else None
