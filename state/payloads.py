"""Content-addressed raw payloads: sha256 of the raw bytes -> zlib-compressed bytes."""

from __future__ import annotations

import hashlib
import threading
import zlib

from state.db import Database

COMPRESSION_LEVEL = 1  # fast: evidence storage must stay inside the poll budget


class UnknownSnapshot(LookupError):
    pass


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Packing:
    """Compresses a payload on another thread. zlib releases the GIL while it works, so
    storing the evidence overlaps with ingesting the rows and evaluating the claims."""

    def __init__(self, body: bytes) -> None:
        self.size = len(body)
        self._data: bytes | None = None
        self._thread = threading.Thread(target=self._run, args=(body,), daemon=True)
        self._thread.start()

    def _run(self, body: bytes) -> None:
        self._data = zlib.compress(body, COMPRESSION_LEVEL)

    def result(self) -> bytes:
        self._thread.join()
        assert self._data is not None
        return self._data


def store(db: Database, packed: Packing | bytes, *, sha256: str, at: str) -> bool:
    """Keep a payload, compressed, unless it is already kept; True when it was new."""
    if db.execute("SELECT 1 FROM payloads WHERE sha256 = ?", [sha256]).fetchone():
        return False
    if isinstance(packed, bytes):
        size, data = len(packed), zlib.compress(packed, COMPRESSION_LEVEL)
    else:
        size, data = packed.size, packed.result()
    db.execute(
        "INSERT INTO payloads (sha256, size, stored_size, data, first_seen) VALUES (?, ?, ?, ?, ?)",
        [sha256, size, len(data), data, at],
    )
    return True


def load(db: Database, name: str) -> tuple[str, bytes]:
    """The full sha256 and raw bytes of a snapshot, by its sha256 or a unique prefix of it."""
    prefix = name.strip().lower()
    if len(prefix) < 6 or any(c not in "0123456789abcdef" for c in prefix):
        raise UnknownSnapshot(f"{name!r} is not a sha256 (give at least 6 hex digits)")
    rows = db.execute(
        "SELECT sha256, data FROM payloads WHERE sha256 >= ? AND sha256 < ? LIMIT 2",
        [prefix, prefix + "g"],
    ).fetchall()
    if not rows:
        raise UnknownSnapshot(f"no snapshot with sha256 {name}")
    if len(rows) > 1:
        raise UnknownSnapshot(f"sha256 prefix {name} is ambiguous; give more digits")
    full, data = rows[0]
    body = zlib.decompress(data)
    if sha256(body) != full:  # pragma: no cover - would mean a corrupted database
        raise UnknownSnapshot(f"snapshot {full} is corrupted: its bytes do not hash to it")
    return full, body
