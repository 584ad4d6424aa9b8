"""The store: migrations keep data across upgrades; payloads are content-addressed."""

from __future__ import annotations

from pathlib import Path

import pytest

from state import payloads
from state.db import DB_NAME, open_db
from state.migrations import migrations


def test_upgrading_an_older_database_keeps_its_data(tmp_path: Path) -> None:
    import sqlite3

    import sqlite_utils

    # A database as the first release left it: only the first migration applied.
    old = sqlite_utils.Database(sqlite3.connect(tmp_path / DB_NAME))
    migrations.apply(old, stop_before="m002_reports")
    old.execute("INSERT INTO predictions (id, claim, raw, registered_at) VALUES"
                " ('kept', 'manual', 'manual', '2025-01-01T00:00:00Z')")
    old.conn.commit()
    old.conn.close()
    db = open_db(tmp_path)  # migrates at open
    full = sqlite_utils.Database(db.conn)
    applied = [m.name for m in migrations.applied(full)]
    assert applied[:3] == ["m001_initial", "m002_reports", "m003_source_alerts"]
    assert migrations.pending(full) == []
    assert len(applied) >= 4
    assert db.execute("SELECT id FROM predictions").fetchall() == [("kept",)]
    assert "reports" in db.table_names()
    assert "source_alerts" in db.table_names()
    assert open_db(tmp_path).execute("SELECT count(*) FROM predictions").fetchone()[0] == 1


def test_the_schema_version_counts_every_migration(tmp_path: Path) -> None:
    """A store stamped with SCHEMA_VERSION opens without sqlite-utils: the stamp must move
    with every new migration, or a new migration would never run on an existing store."""
    import sqlite_utils

    from state.db import SCHEMA_VERSION

    db = open_db(tmp_path)
    assert len(migrations.pending(sqlite_utils.Database(db.conn))) == 0
    assert len(migrations.applied(sqlite_utils.Database(db.conn))) == SCHEMA_VERSION
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_payloads_are_stored_once_and_come_back_byte_for_byte(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    body = b'{"leaderboards": []}' * 1000
    digest = payloads.sha256(body)
    assert payloads.store(db, body, sha256=digest, at="2025-01-01T00:00:00Z") is True
    assert payloads.store(db, body, sha256=digest, at="2025-01-02T00:00:00Z") is False
    size, stored = db.execute("SELECT size, stored_size FROM payloads").fetchone()
    assert size == len(body) and stored < size / 20
    assert payloads.load(db, digest[:10]) == (digest, body)


def test_prediction_columns_are_its_fields_in_order() -> None:
    """Predictions are read positionally (``state.predictions._prediction``)."""
    import dataclasses

    from state.predictions import COLUMNS
    from state.records import Prediction

    assert tuple(f.name for f in dataclasses.fields(Prediction)) == COLUMNS


def test_open_partitions_gives_one_claim_of_each_partition_with_an_open_threshold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk from one partition to the next finds what a scan of every claim finds."""
    from resolver import register
    from resolver.settings import load
    from state import predictions

    monkeypatch.setenv("RESOLVER_STATE_DIR", str(tmp_path / "unused"))
    settings = load()
    db = open_db(tmp_path)
    texts = ["swe-bench-verified >= 70% by 2027", "swe-bench-verified > 80% by 2027",
             "swe-bench-verified >= 70% by 2028", "swe-bench-lite >= 50% by 2027",
             "swe-bench-lite >= 1.2x sota@2026 by 2027",  # no threshold before it freezes
             "swe-bench-verified >= 1.5x sota@2026 by 2029",
             "swe-bench-full >= 40% by 2027 where checked",
             "swe-bench-full >= 45% by 2027 where checked",
             "swe-bench-full >= 40% by 2029"]
    register.save(db, [register.Registration(register.build(
        settings, {"id": f"p{i}", "claim": text}), "") for i, text in enumerate(texts)])
    # A partition whose only open claim is provisional has no open threshold.
    db.execute("UPDATE predictions SET status = 'provisional' WHERE id = 'p8'")
    rows = db.execute("SELECT id, claim, partition, status, threshold FROM predictions"
                      ).fetchall()
    wanted = {part for _, _, part, status, threshold in rows
              if status == "open" and threshold is not None}
    found = predictions.open_partitions(db, "swe-bench")
    assert [part for part, _ in found] == sorted(wanted)
    assert len(wanted) == 4  # verified by 2027 and 2028, lite and full where checked by 2027
    by_claim = {claim: (part, status, threshold) for _, claim, part, status, threshold in rows}
    for part, claim in found:
        assert by_claim[claim][0] == part and by_claim[claim][1] == "open"
        assert by_claim[claim][2] is not None
    assert predictions.open_partitions(db, "osworld") == []


def test_appends_number_events_from_the_count_their_write_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An evaluation's appends number its events from the counts pending() read under the
    write lock; a count that moved behind that read is refused and the write rolls back."""
    from resolver import register
    from resolver.settings import load
    from state import chain, predictions
    from state.db import write
    from state.records import NewEvent

    monkeypatch.setenv("RESOLVER_STATE_DIR", str(tmp_path / "unused"))
    db = open_db(tmp_path)
    register.save(db, [register.Registration(register.build(
        load(), {"id": "p", "claim": "swe-bench-verified >= 70% by 2027"}), "")])
    before = db.execute("SELECT events FROM predictions").fetchone()[0]

    def moved(at: str, to: str) -> NewEvent:
        return NewEvent("p", "status", at, at, "test", from_status="open", to_status=to)

    partition = db.execute("SELECT partition FROM predictions").fetchone()[0]
    crossing = {"polled": frozenset({"swe-bench"}), "bests": {partition: 75.0},
                "retired": set()}
    with write(db):  # a claim its partition's best crosses is read with its count
        [found] = predictions.pending(db, **crossing, at="2026-01-01T00:00:00Z")
        assert found.id == "p" and db.seqs == {"p": before}
        predictions.append(db, moved("2026-01-01T00:00:00Z", "provisional"),
                           status="provisional")
        predictions.append(db, moved("2026-01-02T00:00:00Z", "open"), status="open")
    assert db.execute("SELECT events, status FROM predictions").fetchone() == (before + 2,
                                                                                "open")
    assert [e.seq for e in predictions.events(db, "p")][-2:] == [before + 1, before + 2]
    assert chain.check(chain.rows(db)) is None
    with write(db):  # the other queries read no count: the appends return theirs
        predictions.pending(db, polled=None, bests=None, retired=set(),
                            at="2026-01-02T00:00:00Z")
        assert db.seqs == {}
    with pytest.raises(RuntimeError, match="event count"), write(db):
        predictions.pending(db, **crossing, at="2026-01-03T00:00:00Z")
        db.execute("UPDATE predictions SET events = events + 1")  # behind the write's read
        predictions.append(db, moved("2026-01-03T00:00:00Z", "provisional"),
                           status="provisional")
    assert db.execute("SELECT events, status FROM predictions").fetchone() == (before + 2,
                                                                                "open")
    assert len(predictions.events(db, "p")) == before + 2
