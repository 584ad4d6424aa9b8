"""The state-of-the-art index the daemon keeps answers exactly as one built afresh, after any
sequence of polls: new rows, revised values, dates and attributes, undated rows, retractions
and restorations, and a poll that rolls back."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from resolver import index
from resolver.filters import Filter
from sources.base import Observation, Snapshot
from state import payloads
from state.db import Database, open_db, write
from state.polls import FetchInfo, record_snapshot
from state.rows import first_seen_rows

SOURCE = "swe-bench"
BENCHMARKS = ("a", "b", "c")
FILTERS: tuple[tuple[Filter, ...], ...] = (
    (), (Filter("checked"),), (Filter("checked"), Filter("open")),
    (Filter("model", "~", "alpha"),))
DATES = [f"2025-{m:02d}-{d:02d}" for m in range(1, 13) for d in (1, 15)]


def snapshot(rng: random.Random, rows: dict[tuple[str, str], Observation]) -> Snapshot:
    """The next payload: some rows revised, some gone, some back, a few new."""
    for obs in list(rows.values()):
        roll = rng.random()
        if roll < 0.1:
            obs.value = round(rng.uniform(0, 100), 1)
        elif roll < 0.15:
            obs.result_date = rng.choice([*DATES, None])
        elif roll < 0.2:
            obs.attributes = {"checked": rng.random() < 0.5, "open": rng.random() < 0.5}
        elif roll < 0.25:
            obs.subject = rng.choice(["alpha one", "beta", "alpha two", "gamma"])
    for _ in range(rng.randint(0, 6)):
        benchmark = rng.choice(BENCHMARKS)
        key = f"r{rng.randint(0, 60)}"
        rows.setdefault((benchmark, key), Observation(
            benchmark, key, rng.choice(["alpha one", "beta", "gamma"]),
            rng.choice([50.0, round(rng.uniform(0, 100), 1)]), rng.choice([*DATES, None]),
            attributes={"checked": rng.random() < 0.5, "open": rng.random() < 0.5}))
    present = [obs for obs in rows.values() if rng.random() < 0.9]  # the rest: retracted
    return Snapshot(observations=[Observation(o.benchmark, o.key, o.subject, o.value,
                                              o.result_date, attributes=dict(o.attributes))
                                  for o in present])


def poll(db: Database, at: str, snap: Snapshot, *, fail: bool = False) -> None:
    body = repr(snap).encode()
    sha = payloads.sha256(body)
    with write(db):
        index.kept(db, SOURCE)  # the daemon's evaluation reads it in the same transaction
        record_snapshot(db, source=SOURCE, at=at, info=FetchInfo("test", at), size=len(body),
                        sha256=sha, snapshot=snap)
        index.kept(db, SOURCE)
        if fail:
            raise RuntimeError("the poll fails after evaluating")
        payloads.store(db, payloads.Packing(body), sha256=sha, at=at)


def first_seen(db: Database, benchmark: str, filters: tuple[Filter, ...], start: str | None,
               end: str, at: str) -> index.Found | None:
    """The store's answer for a first-seen window (as ``SourceView`` reads it for a window
    that ended): each row at its latest version first seen before the end."""
    best = None
    for oid, _n, value, attributes, subject, seen in first_seen_rows(db, SOURCE, benchmark, at,
                                                                      end):
        if seen >= (start or "") and (best is None or value > best.value) and all(
                f.matches(json.loads(attributes), subject) for f in filters):
            best = index.Found(value, (oid,))
    return best


def answers(built: index.Index, rng: random.Random) -> list[object]:
    found = []
    for benchmark in (*BENCHMARKS, "none"):
        for filters in FILTERS:
            for _ in range(4):
                start = rng.choice([None, *DATES])
                end = rng.choice(DATES + ["2026-01-01"])
                found.append(built.lookup(benchmark, filters, start, end))
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kept_index_answers_as_a_fresh_one(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    db = open_db(tmp_path)
    rows: dict[tuple[str, str], Observation] = {}
    index.forget()
    for n in range(40):
        at = f"2025-06-{1 + n // 24:02d}T{n % 24:02d}:00:00Z"
        fails = rng.random() < 0.1
        try:
            poll(db, at, snapshot(rng, rows), fail=fails)
        except RuntimeError:
            assert fails
        with write(db):
            kept = index.kept(db, SOURCE)
            assert kept is not None
            fresh = index.build(db, SOURCE, None)
            as_of = index.build(db, SOURCE, at)
            seed_of_queries = rng.random()
            # The kept index answers from its cache where no changed row falls.
            expected = answers(fresh, random.Random(seed_of_queries))
            for built in (kept, as_of):
                assert answers(built, random.Random(seed_of_queries)) == expected
            assert {b: (r.dates, list(r.oids), list(r.values))
                    for b, r in kept.benchmarks.items() if r.oids} == {
                b: (r.dates, list(r.oids), list(r.values)) for b, r in fresh.benchmarks.items()}
            assert kept.poll_times == fresh.poll_times
            for _ in range(12):  # first-seen windows that end after the poll
                benchmark, filters = rng.choice(BENCHMARKS), rng.choice(FILTERS)
                start = rng.choice([None, "2025-06-01T05:00:00Z", "2025-06-01T20:00:00Z",
                                    "2025-06-02"])
                known, found = kept.best_seen(benchmark, filters, start, "2025-07-01")
                assert known
                assert found == first_seen(db, benchmark, filters, start, "2025-07-01", at)
            assert kept.best_seen("a", (), None, "2025-06-01") == (False, None)
            for filters, qualifying in kept.qualifying.get("a", {}).items():
                again = fresh.rows("a", filters)
                assert again is not None
                assert list(qualifying.running) == list(again.running)


def test_an_index_is_kept_only_inside_a_write(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    assert index.kept(db, SOURCE) is None  # no snapshot of the store to read it from
    with write(db):
        assert index.kept(db, SOURCE) is not None


def test_a_new_store_at_the_same_path_is_never_taken_for_the_old(tmp_path: Path) -> None:
    rng = random.Random(5)
    rows: dict[tuple[str, str], Observation] = {}
    index.forget()
    first = open_db(tmp_path / "s")
    poll(first, "2025-06-01T00:00:00Z", snapshot(rng, rows))
    first.conn.close()
    (tmp_path / "s" / "resolver.db").unlink()
    second = open_db(tmp_path / "s")
    with write(second):
        kept = index.kept(second, SOURCE)
        assert kept is not None and kept.size == 0


def test_small_polls_move_every_cached_answer_they_touch(tmp_path: Path) -> None:
    """One row at a time retracted, restored, revised or undated (a poll that changes nothing
    else): each claim's best through the daemon's kept index equals a fresh view's, for both
    date bases and windows that ended before the poll or end after it."""
    from resolver import claims, sota

    rng = random.Random(11)
    db = open_db(tmp_path)
    index.forget()
    rows = {f"r{i}": Observation("swe-bench-verified", f"r{i}", f"agent {i}",
                                 float(rng.choice([40, 50, 60, 70, 90])),
                                 rng.choice([None, None, "2025-05-20", "2025-06-10"]),
                                 attributes={"checked": rng.random() < 0.5})
            for i in range(10)}
    gone: set[str] = set()
    texts = [f"swe-bench-verified >= 10% {window}{basis}{where}"
             for window in ("by 2025-06-01", "by 2025-06-03", "by 2026",
                           "between 2025-06-02 and 2025-06-30")
             for basis in ("", " dated by first-seen") for where in ("", " where checked")]
    wanted = [claims.parse(text) for text in texts]
    for n in range(60):
        key = rng.choice(sorted(rows))
        roll = rng.random()
        if roll < 0.35:
            (gone.discard if key in gone else gone.add)(key)  # retracted, or back
        elif roll < 0.7:
            rows[key].value = float(rng.choice([40, 50, 60, 70, 90, 95]))
        else:
            rows[key].result_date = rng.choice([None, "2025-05-20", "2025-06-10"])
        at = f"2025-06-{1 + n // 20:02d}T{n % 20:02d}:00:00Z"
        poll(db, at, Snapshot(observations=[
            Observation(o.benchmark, o.key, o.subject, o.value, o.result_date,
                        attributes=dict(o.attributes))
            for k, o in sorted(rows.items()) if k not in gone]))
        with write(db):
            kept = sota.SourceView(db, SOURCE, at, kept=True)
            fresh = sota.SourceView(db, SOURCE, at)
            for claim in wanted:
                a, b = kept.best_in_window(claim), fresh.best_in_window(claim)
                assert (a and (a.oid, a.value)) == (b and (b.oid, b.value)), (n, claim)


def test_a_mark_names_one_fetch_only(tmp_path: Path) -> None:
    """A fetch recorded in the same second under the same id (after a rollback, or in a
    restored backup) is not the one an index took in: its random token differs."""
    from state.rows import holds, latest_mark

    db = open_db(tmp_path)
    poll(db, "2025-06-01T00:00:00Z", snapshot(random.Random(1), {}))
    mark = latest_mark(db, SOURCE)
    assert mark is not None and mark.token and holds(db, SOURCE, mark)
    with write(db):
        db.execute("UPDATE fetches SET token = 'another' WHERE id = ?", [mark.fetch_id])
    assert not holds(db, SOURCE, mark)


def test_rollback_hooks_run_while_the_write_lock_is_held(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    seen: list[bool] = []
    with pytest.raises(RuntimeError), write(db):
        db.on_rollback.append(lambda: seen.append(db.conn.in_transaction))
        raise RuntimeError("fails")
    assert seen == [True]
