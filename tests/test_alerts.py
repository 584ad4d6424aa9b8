"""Alerts at once (DESIGN section 13): each state change goes to the notify URLs once, at least
once across restarts, and a prediction's own URLs get its changes only (json:// to the loopback
server)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import Cli, only
from tests.payloads import Payloads, filler, row
from tests.server import FixtureServer

FILE = """
[[prediction]]
id = "sixty"
claim = "swe-bench-verified >= 60% by 2026-12-31"
title = "Sixty percent"
notify = ["{own}"]

[[prediction]]
id = "seventy"
claim = "swe-bench-verified >= 70% by 2026-12-31"
title = "Seventy percent"
"""


def changes(state_dir: Path, prediction_id: str | None = None) -> list[str]:
    """The alert title of every state change in the store, in order."""
    with sqlite3.connect(state_dir / "resolver.db") as conn:
        rows = conn.execute("SELECT prediction_id, from_status, to_status FROM events"
                            " WHERE kind = 'status' ORDER BY id").fetchall()
    return [f"resolver: {p} {a} -> {b}" for p, a, b in rows
            if prediction_id is None or p == prediction_id]


def alerts(http: FixtureServer, path: str) -> list[dict[str, Any]]:
    """What reached ``path`` that is a change alert (not a digest, not source health)."""
    return [p["body"] for p in http.posts if p["path"] == path
            and not p["body"]["title"].startswith(("resolver digest", "resolver: source "))]


def test_each_change_is_alerted_once_also_across_restarts(
        cli: Cli, http: FixtureServer, swe_bench: Path, state_dir: Path, tmp_path: Path) -> None:
    hook = http.url("/hook").replace("http://", "json://")
    own = http.url("/own").replace("http://", "json://")
    predictions = tmp_path / "predictions.toml"
    predictions.write_text(FILE.format(own=own))
    env = {"RESOLVER_NOTIFY": f'["{hook}"]', "RESOLVER_PUBLIC_URL": "https://r.example.org/",
           "RESOLVER_SOURCES__SWE_BENCH__URL": http.url("/lb.json"),
           "RESOLVER_PREDICTIONS_FILES": f'["{predictions}"]', **only("swe-bench")}
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-05-07.json").read_bytes())
    cli("run", "--once", **env)  # best 65.4%: sixty becomes provisional
    assert changes(state_dir) == ["resolver: sixty open -> provisional"]
    [alert] = alerts(http, "/hook")
    assert alert["title"] == "resolver: sixty open -> provisional"
    message = alert["message"]
    for part in ("sixty", "Sixty percent", "swe-bench-verified >= 60% by 2026-12-31 dated by "
                 "result", "open -> provisional, outcome: yes",
                 "https://r.example.org/p/sixty.html"):
        assert part in message, part
    assert [a["title"] for a in alerts(http, "/own")] == changes(state_dir, "sixty")

    # The next cycle (a restart of run --once) with nothing new: no alert is sent again.
    cli("run", "--once", **env)
    assert [a["title"] for a in alerts(http, "/hook")] == changes(state_dir)
    # New changes while the notifier refuses: they are sent at the next cycle, once each.
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    http.refuse_posts = 100
    cli("run", "--once", **env)
    assert len(changes(state_dir)) > len(alerts(http, "/hook"))
    http.refuse_posts = 0
    cli("run", "--once", **env)
    assert [a["title"] for a in alerts(http, "/hook")] == changes(state_dir)
    assert "resolver: seventy open -> provisional" in changes(state_dir)
    # A prediction's own URLs get its changes only, once each.
    assert [a["title"] for a in alerts(http, "/own")] == changes(state_dir, "sixty")


def test_without_notify_changes_or_urls_changes_are_not_kept_for_later(
        cli: Cli, http: FixtureServer, swe_bench: Path, state_dir: Path) -> None:
    hook = http.url("/hook").replace("http://", "json://")
    env = {"RESOLVER_SOURCES__SWE_BENCH__URL": http.url("/lb.json"), **only("swe-bench")}
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-05-07.json").read_bytes())
    cli("predict add 'swe-bench-verified >= 60% by 2026-12-31' --id sixty")
    cli("run", "--once", RESOLVER_NOTIFY=f'["{hook}"]', RESOLVER_NOTIFY_CHANGES="false", **env)
    assert changes(state_dir) and alerts(http, "/hook") == []
    # Turned on later: the old change is not sent (the digest told it), a new one is.
    cli("predict add 'swe-bench-verified >= 70% by 2026-12-31' --id seventy")
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    cli("run", "--once", RESOLVER_NOTIFY=f'["{hook}"]', **env)
    titles = [a["title"] for a in alerts(http, "/hook")]
    assert "resolver: sixty open -> provisional" not in titles
    assert "resolver: seventy open -> provisional" in titles


def test_poll_from_file_never_notifies(cli: Cli, http: FixtureServer, swe_bench: Path) -> None:
    hook = http.url("/hook").replace("http://", "json://")
    cli("predict add 'swe-bench-verified >= 60% by 2026-12-31' --id sixty")
    cli("poll", "swe-bench", "--from-file", str(swe_bench / "leaderboards.2025-05-07.json"),
        "--at", "2025-05-08T00:00Z", RESOLVER_NOTIFY=f'["{hook}"]')
    assert http.posts == []


def test_notify_is_a_list_of_strings_and_never_changes(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    entry = '[[prediction]]\nid = "a"\nclaim = "swe-bench-verified >= 60% by 2026-12-31"\n'
    path.write_text(entry + 'notify = "json://x"\n')
    result = cli("predict", "import", str(path), expect=1)
    assert "'notify' must be a list of Apprise URLs (strings)" in result.output
    path.write_text(entry + 'notify = ["json://x"]\n')
    cli("predict", "import", str(path))
    path.write_text(entry + 'notify = ["json://y"]\n')
    result = cli("predict", "import", str(path), expect=1)
    assert "a: 'notify' cannot change once registered" in result.output


def test_a_replay_never_notifies_later_either(cli: Cli, tmp_path: Path) -> None:
    """poll --from-file moves predictions but never notifies: not at once, and not at the
    daemon's next cycle either."""
    from state import change_alerts
    from state.db import open_db

    write = Payloads(tmp_path)
    cli("predict", "add", "swe-bench-verified >= 80% by 2025-12-31", "--id", "p")
    cli("poll", "swe-bench", "--from-file", write(filler(5) + [row("20250601_a", 85.0,
                                                                   "2025-06-01")]),
        "--at", "2025-06-02T00:00Z")
    db = open_db(Path(os.environ["RESOLVER_STATE_DIR"]))
    try:
        assert change_alerts.unsent(db, "notify") == []
        assert change_alerts.unsent(db, "own") == []
    finally:
        db.conn.close()
