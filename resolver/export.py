"""Evidence bundles (DESIGN section 14): one prediction with everything needed to re-derive
it offline, on any machine, with nothing but ``pip install`` and ``resolver verify
BUNDLE.zip``.

    manifest.json     format, the exporting resolver's version, the chain head at export, the
                      prediction's events' hashes each with its previous hash, the payloads
    prediction.json   the prediction as stored, its source's kind, and how many of the polls
                      came before its registration
    events.json       its event rows exactly as stored (the hash covers them)
    polls.json        time, status and sha256 of each successful poll of its source, up to
                      its latest event once it is settled (every poll while it is not)
    payloads/SHA256   the raw bytes of each payload those polls read

The bytes are deterministic: sorted entries, fixed entry times and modes, JSON with sorted
keys. Reading a bundle checks every payload against its name and every event against its
hash; re-deriving it (``resolver.rederive``) checks the decisions.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from resolver import __version__
from resolver.errors import NotFound, ResolverError
from resolver.rederive import ArchivedPoll, History, Unreadable, rederive
from resolver.settings import Settings
from resolver.verify import Report, archived_polls, load_payload
from state import chain, payloads
from state import predictions as store
from state.db import Database
from state.records import JSON, Baseline, Bet, Prediction, decision_from_json

FORMAT = 1
_SHA = re.compile(r"^[0-9a-f]{64}$")
_ENTRY_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: no clock in the bytes
_MAX_ENTRIES = 100_000
_MAX_JSON = 256 * 1024 * 1024


def export(db: Database, settings: Settings, prediction_id: str) -> bytes:
    """The bundle of one prediction, as bytes."""
    p = store.get(db, prediction_id)
    if p is None:
        raise NotFound(f"no prediction with id {prediction_id!r}")
    rows = list(chain.rows(db, p.id))
    polls: list[ArchivedPoll] = []
    before = 0
    if p.source is not None and not p.manual:
        recorded = archived_polls(db, p.source)
        after = store.registered_after(db, p.id)
        latest = rows[-1]["at"] if rows and p.settled else None
        for fetch_id, poll in recorded:
            if latest is not None and poll.at > latest:
                break
            polls.append(poll)
            before += fetch_id <= after
    entries: dict[str, bytes] = {}
    for sha in sorted({poll.sha256 for poll in polls}):
        try:
            entries[f"payloads/{sha}"] = load_payload(db, sha)
        except Unreadable as error:
            raise ResolverError(f"cannot export {p.id}: {error}") from None
    head = chain.head(db)
    entries["manifest.json"] = _json({
        "format": FORMAT, "prediction": p.id, "resolver_version": __version__,
        "chain": head.to_json(),
        "events": [{"id": row["id"], "seq": row["seq"], "hash": row["hash"],
                    "previous": chain.previous_hash(db, row["id"])} for row in rows],
        "payloads": sorted(name.removeprefix("payloads/") for name in entries
                           if name.startswith("payloads/")),
    })
    kind = settings.source_kinds().get(p.source) if p.source else None
    entries["prediction.json"] = _json({**prediction_json(p), "source_kind": kind,
                                        "registered_after_polls": before})
    entries["events.json"] = _json(rows)
    entries["polls.json"] = _json([poll.to_json() for poll in polls])
    return _zip(entries)


def _json(data: Any) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ENTRY_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever machine exports it
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name], compresslevel=6)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> None:
    """Write the bundle whole or not at all."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise ResolverError(f"{path}: cannot write: {error.strerror or error}") from None


def prediction_json(p: Prediction) -> JSON:
    data = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
    data["bet"] = p.bet.to_json() if p.bet else None
    data["deciding"] = p.deciding.to_json() if p.deciding else None
    data["baseline"] = p.baseline.to_json() if p.baseline else None
    return data


def prediction_from_json(data: JSON) -> Prediction:
    names = {f.name for f in dataclasses.fields(Prediction)}
    values = {k: v for k, v in data.items() if k in names}
    bet, deciding, baseline = values.pop("bet"), values.pop("deciding"), values.pop("baseline")
    return Prediction(**values, bet=Bet.from_json(bet) if bet else None,
                      deciding=decision_from_json(deciding),
                      baseline=Baseline.from_json(baseline) if baseline else None)


# -- reading and verifying a bundle -----------------------------------------------------------


def verify_bundle(path: Path, settings: Settings) -> Report:
    """Check a bundle's payloads and events, then re-derive its prediction from it alone."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ResolverError(f"{path}: not a resolver bundle ({error})") from None
    with archive:
        return _verify(path, archive, settings)


def _verify(path: Path, archive: zipfile.ZipFile, settings: Settings) -> Report:
    missing: list[str] = []  # payloads altered or missing
    infos = archive.infolist()
    if len(infos) > _MAX_ENTRIES:
        raise ResolverError(f"{path}: {len(infos):,} entries: not a resolver bundle")
    names = {info.filename: info for info in infos}
    for required in ("manifest.json", "prediction.json", "events.json", "polls.json"):
        if required not in names:
            raise ResolverError(f"{path}: not a resolver bundle (no {required})")
    manifest = _read_json(path, archive, names["manifest.json"])
    data = _read_json(path, archive, names["prediction.json"])
    rows = _read_json(path, archive, names["events.json"])
    polls_data = _read_json(path, archive, names["polls.json"])
    try:
        prediction = prediction_from_json(data)
        polls = [ArchivedPoll(item["at"], item["status"], item["sha256"]) for item in polls_data]
        before = int(data["registered_after_polls"])
        listed = {int(e["id"]): e for e in manifest["events"]}
        head = chain.Head(int(manifest["chain"]["events"]), str(manifest["chain"]["head"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ResolverError(f"{path}: not a resolver bundle ({error!r})") from None
    problems = _check_events(rows, listed)
    bodies: dict[str, bytes] = {}
    for name, info in sorted(names.items()):
        if not name.startswith("payloads/"):
            continue
        sha = name.removeprefix("payloads/")
        if not _SHA.match(sha):
            missing.append(f"{name}: not a payload name (a sha256)")
            continue
        if info.file_size > settings.max_payload:
            missing.append(f"{name}: {info.file_size:,} bytes is over max_payload")
            continue
        try:
            body = archive.read(info)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:  # altered
            missing.append(f"{name}: cannot be read back ({error}): the bundle was altered")
            continue
        actual = payloads.sha256(body)
        if actual != sha:
            missing.append(f"{name}: its bytes hash to {actual}, not to its name")
            continue
        bodies[sha] = body
    for poll in polls:
        if poll.sha256 not in bodies and f"payloads/{poll.sha256}" not in names:
            missing.append(f"payload {poll.sha256} of the poll at {poll.at} is missing")
    from state.predictions import event_from_row

    try:
        events = [event_from_row(row) for row in rows]
    except (KeyError, TypeError, ValueError) as error:
        raise ResolverError(f"{path}: events.json is not a list of event rows ({error!r})"
                            ) from None
    kind = data.get("source_kind")
    history = History(prediction, kind if isinstance(kind, str) else None, polls, before,
                      events, [row.get("resolver_version") for row in rows])

    def payload(sha: str) -> bytes:
        if sha not in bodies:
            raise Unreadable(f"payload {sha} is missing from the bundle or altered")
        return bodies[sha]

    verdicts = rederive([history], payload, settings)
    origin = (f"{path.name}: prediction {prediction.id}, exported by resolver "
              f"{manifest.get('resolver_version')}; chain at export: {head}")
    return Report(head, problems, verdicts, origin=origin, bundle_problems=missing)


def _read_json(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Any:
    if info.file_size > _MAX_JSON:
        raise ResolverError(f"{path}: {info.filename} is {info.file_size:,} bytes: not a "
                            "resolver bundle")
    try:
        return json.loads(archive.read(info))
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as error:
        raise ResolverError(f"{path}: {info.filename} cannot be read ({error}): the bundle "
                            "was altered or is not a resolver bundle") from None


def _check_events(rows: Any, listed: dict[int, Any]) -> list[str]:
    """Every event row hashes, with the previous hash the manifest gives, to its hash; and
    the manifest lists exactly these events."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return ["events.json is not a list of event rows"]
    problems = []
    ids = [row.get("id") for row in rows]
    if sorted(listed) != sorted(i for i in ids if isinstance(i, int)) or len(ids) != len(listed):
        problems.append(f"events.json holds events {ids}, the manifest lists "
                        f"{sorted(listed)}: an event was added or removed")
    for row in rows:
        entry = listed.get(row.get("id"))
        if entry is None:
            continue
        try:
            expected = chain.event_hash(str(entry["previous"]), row)
        except KeyError as error:
            problems.append(f"event {row.get('id')}: its row lacks {error}")
            continue
        if row.get("hash") != expected or entry.get("hash") != expected:
            problems.append(f"event {row['id']} ({row.get('prediction_id')} #{row.get('seq')}):"
                            f" its row and previous hash give {expected}, it says "
                            f"{row.get('hash')}: the event was edited")
    return problems
