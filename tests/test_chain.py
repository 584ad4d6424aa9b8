"""The hash chain over the event log (DESIGN section 4): extended with every event, computed
by the migration for events that exist already, and shown in every digest format."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import sqlite_utils

from resolver import __version__
from state import chain
from state.db import DB_NAME, Database, open_db
from state.migrations import migrations
from tests.conftest import Cli
from tests.payloads import Payloads, filler, row


def by_hand(db: Database) -> list[str]:
    """The chain recomputed from the rows as DESIGN 4 words it, without state.chain."""
    cursor = db.execute("SELECT * FROM events ORDER BY id")
    names = [d[0] for d in cursor.description]
    previous, hashes = "0" * 64, []
    for values in cursor.fetchall():
        stored = dict(zip(names, values, strict=True))
        stored.pop("hash")
        text = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256((previous + text).encode("utf-8")).hexdigest()
        hashes.append(previous)
    return hashes


def history(cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id eighty")
    cli("predict add 'swe-bench-verified >= 1.01x sota@2025-05-31 by 2025-12-31' --id relative")
    cli("poll", "swe-bench", "--from-file", write(filler(6) + [
        row("20250520_a", 78.5, "2025-05-20", name="Agent A")]), "--at", "2025-06-01T08:00Z")
    cli("poll", "swe-bench", "--from-file", write(filler(6) + [
        row("20250520_a", 78.5, "2025-05-20", name="Agent A"),
        row("20250601_b", 81.25, "2025-06-01", name="Agent B")]), "--at", "2025-06-02T09:00Z")


def test_every_event_extends_the_chain_in_append_order(cli: Cli, state_dir: Path,
                                                       tmp_path: Path) -> None:
    history(cli, tmp_path)
    cli("resolve eighty yes --note 'seen it' --by ann")
    db = open_db(state_dir)
    stored = [h for (h,) in db.execute("SELECT hash FROM events ORDER BY id")]
    assert len(stored) >= 4 and all(stored)
    assert stored == by_hand(db)  # anyone can recompute it from the rows
    assert chain.check(chain.rows(db)) is None
    assert chain.head(db) == chain.Head(len(stored), stored[-1])
    versions = {v for (v,) in db.execute("SELECT resolver_version FROM events")}
    assert versions == {__version__}


def test_check_names_the_first_event_whose_row_or_predecessor_changed(
    cli: Cli, state_dir: Path, tmp_path: Path,
) -> None:
    history(cli, tmp_path)
    db = open_db(state_dir)
    rows = list(chain.rows(db))
    edited = [dict(r) for r in rows]
    edited[1]["outcome"] = "no"
    broken = chain.check(edited)
    assert broken is not None and broken.event_id == rows[1]["id"] and broken.position == 2
    assert chain.check(rows[:1] + rows[2:]) is not None  # one deleted
    assert chain.check([rows[1], rows[0], *rows[2:]]) is not None  # two swapped


def test_the_migration_chains_the_events_of_an_older_database(tmp_path: Path) -> None:
    old = sqlite_utils.Database(sqlite3.connect(tmp_path / DB_NAME))
    migrations.apply(old, stop_before="m005_event_chain")
    old.execute("INSERT INTO predictions (id, claim, raw, registered_at, events) VALUES"
                " ('kept', 'manual', 'manual', '2025-01-01T00:00:00Z', 2)")
    for seq, (status, at) in enumerate((("resolved", "2025-02-01T00:00:00Z"),
                                        ("annulled", "2025-03-01T00:00:00Z")), 1):
        old.execute("INSERT INTO events (prediction_id, seq, kind, from_status, to_status, at,"
                    " recorded_at, reason, by) VALUES ('kept', ?, 'status', 'open', ?, ?, ?,"
                    " 'a person — decided', 'ann')", [seq, status, at, at])
    old.execute("INSERT INTO digests (date, window_from, window_to, written_at) VALUES"
                " ('2025-02-15', '', '2025-02-15T06:30:00Z', '2025-02-15T06:30:00Z')")
    old.conn.commit()
    old.conn.close()
    db = open_db(tmp_path)
    assert migrations.pending(sqlite_utils.Database(db.conn)) == []
    stored = [h for (h,) in db.execute("SELECT hash FROM events ORDER BY id")]
    assert stored == by_hand(db) and len(stored) == 2
    assert chain.check(chain.rows(db)) is None
    # Events from before the chain carry no version; the digest written then gets the head
    # of the events dated before its window's end.
    assert [v for (v,) in db.execute("SELECT resolver_version FROM events")] == [None, None]
    assert db.execute("SELECT chain_events, chain_head FROM digests").fetchone() == (
        1, stored[0])
    # New events extend the migrated chain.
    from resolver import lifecycle

    lifecycle.resolve_by_hand(db, "kept", "no", note="again", by="bo", override=True)
    assert chain.check(chain.rows(db)) is None
    assert chain.head(db).events == 3


def _chain_of(text: str) -> str:
    found = re.search(r"events \d+, head [0-9a-f]{64}", text)
    assert found, text
    return found.group(0)


def test_every_digest_format_shows_the_head_and_a_date_keeps_it(
    cli: Cli, state_dir: Path, tmp_path: Path,
) -> None:
    history(cli, tmp_path)
    db = open_db(state_dir)
    head = chain.head(db)
    rendered = {fmt: cli("digest", "--date", "2025-06-03", "--format", fmt, "--stdout").output
                for fmt in ("md", "json", "html")}
    assert json.loads(rendered["json"])["chain"] == {"events": head.events, "head": head.hash}
    assert f"Event log: {head}." in rendered["md"]
    assert _chain_of(rendered["html"]) == str(head)
    # More events later: the date renders the same head.
    cli("evaluate --at 2025-07-15")
    cli("resolve eighty no --note 'by hand' --by ann --override")
    assert chain.head(db).events > head.events
    again = {fmt: cli("digest", "--date", "2025-06-03", "--format", fmt, "--stdout").output
             for fmt in ("md", "json", "html")}
    assert again == rendered


def test_a_written_digest_keeps_the_head_it_was_written_with(
    cli: Cli, state_dir: Path, tmp_path: Path,
) -> None:
    from resolver import digest, settings

    history(cli, tmp_path)
    db = open_db(state_dir)
    config = settings.load()
    cli("resolve eighty no --note 'by hand' --by ann --override")  # dated now, after 06-03
    head = chain.head(db)
    assert digest.write_once(db, config, dt.date(2025, 6, 3)) is True
    files = {fmt: (state_dir / "digests" / f"2025-06-03.{fmt}").read_text()
             for fmt in ("md", "json", "html")}
    assert json.loads(files["json"])["chain"] == head.to_json()
    assert _chain_of(files["md"]) == _chain_of(files["html"]) == str(head)
    feed = (state_dir / "digests" / "feed.atom").read_text()
    assert str(head) in feed
    cli("resolve eighty yes --note 'again' --by ann --override")
    assert chain.head(db) != head
    shown = cli("digest", "--date", "2025-06-03", "--format", "json", "--stdout").output
    assert json.loads(shown)["chain"] == head.to_json()
