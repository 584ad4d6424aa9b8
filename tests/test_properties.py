"""Properties of evaluation, over generated poll histories."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolver import clock, poller, register
from resolver.settings import load
from state.db import open_db
from tests.payloads import payload, row

rows = st.tuples(st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 1)),
                 st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))


@given(history=st.lists(st.lists(rows, min_size=1, max_size=4), min_size=1, max_size=5),
       threshold=st.sampled_from([30, 50, 70, 90]),
       deadline=st.sampled_from(["2025-03", "2025-06-30", "2025-H2"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_adding_qualifying_rows_never_turns_yes_into_no(
    history: list[list[tuple[float, dt.date]]], threshold: int, deadline: str,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings_ = load({"RESOLVER_STATE_DIR": str(folder / "state")})
        db = open_db(settings_.state_dir)
        register.save(db, [register.Registration(register.build(settings_, {
            "id": "p", "claim": f"swe-bench-verified >= {threshold}% by {deadline}",
            "late_days": 0, "confirm_hours": 24}), "")])
        source = settings_.resolved_sources()["swe-bench"]
        published: list[dict[str, object]] = []
        at = dt.datetime(2025, 1, 15, tzinfo=dt.UTC)
        said_yes = False
        for number, added in enumerate(history):
            # Each poll adds rows; none is removed or revised.
            published += [row(f"r{number}_{i}", value, day.isoformat())
                          for i, (value, day) in enumerate(added)]
            path = folder / f"poll-{number}.json"
            path.write_bytes(payload(published))
            at += dt.timedelta(days=45)
            poller.poll(db, settings_, source, from_file=path, at=clock.format_instant(at))
            status, outcome = db.execute(
                "SELECT status, outcome FROM predictions WHERE id = 'p'").fetchone()
            if said_yes:
                assert (status, outcome) in (("provisional", "yes"), ("resolved", "yes"))
            said_yes = outcome == "yes"
        # The yes, if any, is backed by a row that crosses inside the window.
        for (evidence,) in db.execute("SELECT evidence FROM events WHERE outcome = 'yes'"):
            proof = json.loads(evidence)
            assert proof["value"] >= threshold
