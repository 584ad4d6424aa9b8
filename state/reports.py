"""The ``reports`` table: publications from news feeds (a METR report), which carry no number
and become digest events."""

from __future__ import annotations

from dataclasses import dataclass

from sources.base import Report as SourceReport
from state.db import Database


@dataclass(frozen=True)
class Report:
    source: str
    title: str
    link: str
    published: str | None
    first_seen: str


def first_seen_in(db: Database, start: str, end: str) -> list[Report]:
    """Reports first seen in [start, end), not counting a feed's baseline."""
    return [Report(*row) for row in db.execute(
        "SELECT source, title, link, published, first_seen FROM reports WHERE baseline = 0"
        " AND first_seen >= ? AND first_seen < ? ORDER BY first_seen, id", [start, end])]


def record(db: Database, source: str, fetch_id: int, at: str, found: list[SourceReport]) -> int:
    """Keep the reports not seen before (in the poll's transaction); those of a source's
    first successful poll are its baseline, not news. Returns how many are news."""
    baseline = not db.execute(
        "SELECT 1 FROM fetches WHERE source = ? AND status != 'failed' AND id != ? LIMIT 1",
        [source, fetch_id]).fetchone()
    before = db.execute("SELECT count(*) FROM reports WHERE source = ?",
                        [source]).fetchone()[0]
    db.conn.executemany(
        "INSERT INTO reports (source, key, title, link, published, first_seen, fetch_id,"
        " baseline) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, key) DO NOTHING",
        [(source, r.key, r.title, r.link, r.published, at, fetch_id,
          int(baseline)) for r in found],
    )
    added: int = db.execute("SELECT count(*) FROM reports WHERE source = ?",
                            [source]).fetchone()[0] - before
    return 0 if baseline else added
