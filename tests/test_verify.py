"""Verifiable resolutions (DESIGN section 14): ``resolver verify`` re-derives decisions from
the archived bytes and detects an edited history; ``resolver export`` makes a bundle that
verifies alone, offline, in an empty state dir."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

import sources
from resolver.cli import cli as group
from resolver.cli_verify import export, verify
from state.db import DB_NAME
from tests.conftest import ROOT, SWE_BENCH_HISTORY, Cli, replay
from tests.test_replay_all import every_poll

# Until resolver.cli registers them itself.
for command in (verify, export):
    if command.name not in group.commands:
        group.add_command(command)

DIVERGED = 4


def swe_bench_history(cli: Cli, fixtures: Path) -> None:
    cli("predict", "add", "swe-bench-verified >= 85% by 2025-07-31", "--id", "mid-2025")
    cli("predict", "add", "swe-bench-verified < 85% by 2025-12-31", "--id", "stays-below")
    cli("predict", "add", "swe-bench-verified >= 79% by 2025-12-31", "--id", "seventy-nine")
    cli("predict", "add", "manual", "--id", "judged", "--deadline", "2025-06",
        "--criteria", "a person checks")
    first, *rest = SWE_BENCH_HISTORY
    replay(cli, fixtures / "swe-bench", [first], "swe-bench")
    # Registered after a poll: its baseline freezes at once, dated at that poll.
    cli("predict", "add", "swe-bench-verified >= 1.1x sota@2025-04-30 by 2025-12-31",
        "--id", "relative")
    replay(cli, fixtures / "swe-bench", rest[:3], "swe-bench")
    cli("resolve", "judged", "yes", "--note", "checked", "--by", "ann")
    replay(cli, fixtures / "swe-bench", rest[3:], "swe-bench")


def lines(output: str) -> dict[str, str]:
    return {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in output.splitlines()}


def test_every_replayed_decision_re_derives(cli: Cli, fixtures: Path, tmp_path: Path) -> None:
    polls = every_poll(fixtures, tmp_path)
    cli("predict", "import", str(ROOT / "examples" / "ai-2027.toml"))
    cli("predict", "add", "metr-p50-horizon >= 12h by 2026-12-31", "--id", "metr-12h")
    for at, source, path in polls:
        cli("poll", source, "--from-file", str(path), "--at", at,
            expect=3 if "headerless" in path.name else 0)
    cli("evaluate", "--at", "2026-07-03T00:00Z")
    cli("resolve", "engineers-not-replaced-2027", "annul", "--note", "moot", "--by", "ann")

    out = cli("verify").output
    found = lines(out)
    assert found["chain"].startswith("ok, events ")
    ids = [p["id"] for p in json.loads(cli("predict", "list", "--json").output)]
    assert len(ids) >= 10
    for prediction_id in ids:
        assert found[prediction_id].startswith("ok ("), out
    assert "recorded by resolver 0.1.0" in found["ai2027-swe-bench-85"]
    report = json.loads(cli("verify", "--json").output)
    assert report["ok"] is True
    assert {p["id"] for p in report["predictions"]} == set(ids)
    # METR's revision sent metr-12h back to open: three events, all re-derived.
    twelve = next(p for p in report["predictions"] if p["id"] == "metr-12h")
    assert twelve["events"] == 2 and twelve["divergence"] is None


def test_swe_bench_history_re_derives_with_late_registration_and_a_person(
    cli: Cli, fixtures: Path,
) -> None:
    swe_bench_history(cli, fixtures)
    relative = cli.events("relative")
    assert relative[0]["kind"] == "baseline"
    assert relative[0]["at"] == SWE_BENCH_HISTORY[0][1]
    out = cli("verify").output
    for prediction_id in ("mid-2025", "stays-below", "seventy-nine", "judged", "relative"):
        assert lines(out)[prediction_id].startswith("ok ("), out
    assert cli("verify", "relative", "mid-2025").output.count(": ok (") == 2
    cli("verify", "nobody", expect=1)


def lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SWE-bench parser of a later release that reads every Verified score of 79% or
    more as 60%."""
    real = sources.kind

    class Lowered:
        def __init__(self, kind: Any) -> None:
            self.kind = kind

        def __getattr__(self, name: str) -> Any:  # the kind's benchmarks, check, name
            return getattr(self.kind, name)

        def parse(self, body: bytes, headers: Any, **options: Any) -> Any:
            snapshot = self.kind.parse(body, headers, **options)
            for observation in snapshot.observations:
                if observation.benchmark == "swe-bench-verified" and observation.value >= 79:
                    observation.value = 60.0
            return snapshot

    def kind(name: str) -> Any:
        found = real(name)
        return Lowered(found) if name == "swe-bench-leaderboards" else found

    monkeypatch.setattr(sources, "kind", kind)


def test_a_parser_that_reads_another_value_is_a_divergence(
    cli: Cli, fixtures: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    swe_bench_history(cli, fixtures)
    assert cli("verify").exit_code == 0
    lowered(monkeypatch)
    result = cli("verify", expect=DIVERGED)
    found = lines(result.output)
    assert found["chain"].startswith("ok")  # the history is intact: the parser changed
    # 79% was crossed on the 2026-02-26 page; read as 60%, the window closes uncrossed.
    assert found["seventy-nine"].startswith(
        "DIVERGES at event #1 differs in outcome: recorded provisional yes at "
        "2026-02-26T21:20:00Z"), result.output
    assert "(recorded by resolver 0.1.0); derived by resolver 0.1.0: provisional no at " \
        "2026-02-26T21:20:00Z" in found["seventy-nine"]
    assert found["mid-2025"].startswith("ok (")  # decided by rows under 79%
    assert found["judged"].startswith("ok (")  # a person's decision is an input
    report = json.loads(cli("verify", "seventy-nine", "--json", expect=DIVERGED).output)
    divergence = report["predictions"][0]["divergence"]
    assert divergence["event"] == 1 and divergence["field"] == "outcome"
    assert divergence["recorded"]["outcome"] == "yes"
    assert divergence["derived"]["outcome"] == "no"


def tamper(state_dir: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    conn = sqlite3.connect(state_dir / DB_NAME)
    with conn:
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
    conn.close()


def event_ids(state_dir: Path) -> list[int]:
    conn = sqlite3.connect(state_dir / DB_NAME)
    ids = [i for (i,) in conn.execute("SELECT id FROM events ORDER BY id")]
    conn.close()
    return ids


@pytest.mark.parametrize("edit", ["field", "delete", "delete-last", "reorder"])
def test_an_edited_event_log_is_caught(cli: Cli, fixtures: Path, state_dir: Path,
                                       edit: str) -> None:
    swe_bench_history(cli, fixtures)
    ids = event_ids(state_dir)
    assert len(ids) >= 5
    middle = ids[len(ids) // 2]
    if edit == "field":
        tamper(state_dir, "UPDATE events SET outcome = CASE outcome WHEN 'yes' THEN 'no'"
               " ELSE 'yes' END WHERE id = ?", params=(middle,))
    elif edit == "delete":
        tamper(state_dir, "DELETE FROM events WHERE id = ?", params=(middle,))
    elif edit == "delete-last":  # the chain stays whole; the count says it
        tamper(state_dir, "DELETE FROM events WHERE id = ?", params=(ids[-1],))
    else:
        first, second = ids[1], ids[2]
        tamper(state_dir, f"UPDATE events SET id = -1 WHERE id = {first}",
               f"UPDATE events SET id = {first} WHERE id = {second}",
               f"UPDATE events SET id = {second} WHERE id = -1")
    result = cli("verify", expect=DIVERGED)
    first_line = result.output.splitlines()[0]
    assert first_line.startswith("chain: BROKEN: "), result.output
    if edit == "delete-last":
        assert "an event was deleted" in first_line
    else:
        assert "stored hash" in first_line and "its row and predecessor give" in first_line


def test_a_payload_changed_in_the_store_is_caught(cli: Cli, fixtures: Path,
                                                  state_dir: Path) -> None:
    swe_bench_history(cli, fixtures)
    conn = sqlite3.connect(state_dir / DB_NAME)
    sha, data = conn.execute("SELECT sha256, data FROM payloads ORDER BY first_seen"
                             " LIMIT 1 OFFSET 1").fetchone()
    body = bytearray(zlib.decompress(data))
    body[body.index(b"75.2")] = ord("9")
    with conn:
        conn.execute("UPDATE payloads SET data = ? WHERE sha256 = ?",
                     [zlib.compress(bytes(body)), sha])
    conn.close()
    found = lines(cli("verify", expect=DIVERGED).output)
    assert found["chain"].startswith("ok")
    assert found["mid-2025"].startswith("CANNOT RE-DERIVE: the payload of the poll at ")
    assert f"snapshot {sha} is corrupted" in found["mid-2025"]
    assert found["judged"].startswith("ok (")  # manual: nothing to re-derive


def test_a_bundle_verifies_alone_in_a_fresh_state_dir(
    cli: Cli, fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    swe_bench_history(cli, fixtures)
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    cli("export", "mid-2025", "-o", str(one))
    cli("export", "mid-2025", "-o", str(two))
    assert one.read_bytes() == two.read_bytes()  # deterministic
    with zipfile.ZipFile(one) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        polls = json.loads(archive.read("polls.json"))
    assert names == sorted(names)
    assert {"manifest.json", "prediction.json", "events.json", "polls.json"} <= set(names)
    assert {p["sha256"] for p in polls} == {n.removeprefix("payloads/") for n in names
                                             if n.startswith("payloads/")}
    # Settled at the 2025-09-13 confirmation: polls up to then.
    assert [p["at"] for p in polls][-1] == "2025-09-10T21:28:00Z"
    with zipfile.ZipFile(one) as archive:
        rows = json.loads(archive.read("events.json"))
    assert [(e["id"], e["hash"]) for e in manifest["events"]] == [
        (r["id"], r["hash"]) for r in rows]
    fresh = tmp_path / "elsewhere"
    monkeypatch.setenv("RESOLVER_STATE_DIR", str(fresh))
    out = cli("verify", str(one)).output
    assert out.splitlines()[0].startswith("one.zip: prediction mid-2025, exported by resolver")
    assert lines(out)["mid-2025"].startswith("ok (2 events")
    assert lines(out)["chain"].startswith("the bundle's events link up; the manifest states "
                                          "events ")
    manual = tmp_path / "judged.zip"
    monkeypatch.setenv("RESOLVER_STATE_DIR", str(tmp_path / "state"))
    cli("export", "judged", "-o", str(manual))
    monkeypatch.setenv("RESOLVER_STATE_DIR", str(fresh))
    assert lines(cli("verify", str(manual)).output)["judged"].startswith("ok (1 event;")


def rewrite(bundle: Path, target: Path, change: Any) -> Path:
    """A copy of ``bundle`` with its entries changed by ``change(entries)``."""
    with zipfile.ZipFile(bundle) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    change(entries)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    target.write_bytes(buffer.getvalue())
    return target


def test_an_altered_bundle_is_caught(cli: Cli, fixtures: Path, tmp_path: Path) -> None:
    swe_bench_history(cli, fixtures)
    bundle = tmp_path / "mid.zip"
    cli("export", "mid-2025", "-o", str(bundle))

    def payload_byte(entries: dict[str, bytes]) -> None:
        name = next(n for n in sorted(entries) if n.startswith("payloads/"))
        data = bytearray(entries[name])
        digit = data.index(b'"resolved": ') + len(b'"resolved": ')
        data[digit] = ord("1") if data[digit] != ord("1") else ord("2")
        entries[name] = bytes(data)

    def an_event(entries: dict[str, bytes]) -> None:
        rows = json.loads(entries["events.json"])
        rows[0]["outcome"] = "yes"
        entries["events.json"] = json.dumps(rows).encode()

    def a_payload_gone(entries: dict[str, bytes]) -> None:
        del entries[next(n for n in sorted(entries) if n.startswith("payloads/"))]

    expected = {payload_byte: "hash to", an_event: "the event was edited",
                a_payload_gone: "is missing"}
    for change, words in expected.items():
        altered = rewrite(bundle, tmp_path / f"{change.__name__}.zip", change)
        result = cli("verify", str(altered), expect=DIVERGED)
        assert words in result.output, result.output
        assert ": BROKEN: " in result.output
    # A flipped byte inside the zip's compressed data: its CRC no longer matches.
    raw = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as archive:
        info = next(i for i in archive.infolist() if i.filename.startswith("payloads/"))
    raw[info.header_offset + 30 + len(info.filename) + 1000] ^= 0xFF
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(bytes(raw))
    result = cli("verify", str(flipped), expect=DIVERGED)
    assert "the bundle was altered" in result.output or "hash to" in result.output
    not_a_bundle = tmp_path / "nothing.zip"
    not_a_bundle.write_bytes(b"hello")
    assert "not a resolver bundle" in cli("verify", str(not_a_bundle), expect=1).output


def test_verify_on_a_terminal_shows_a_progress_bar(cli: Cli, state_dir: Path,
                                                   tmp_path: Path) -> None:
    """Long work shows click's progress bar on stderr when it is a terminal (DESIGN 5)."""
    import os
    import pty
    import subprocess

    from tests.conftest import ROOT
    from tests.payloads import Payloads, filler, row

    write = Payloads(tmp_path)
    cli("predict", "add", "swe-bench-verified >= 80% by 2025-12-31", "--id", "p")
    cli("poll", "swe-bench", "--from-file", write(filler(5) + [row("20250601_a", 85.0,
                                                                   "2025-06-01")]),
        "--at", "2025-06-02T00:00Z")
    leader, follower = pty.openpty()
    env = {**os.environ, "RESOLVER_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT),
           "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-m", "resolver", "verify"], env=env,
                          stdout=subprocess.PIPE, stderr=follower, timeout=60, check=False)
    os.close(follower)
    shown = os.read(leader, 65536).decode(errors="replace")
    os.close(leader)
    assert done.returncode == 0 and b"p: ok" in done.stdout
    assert "verify" in shown and "100%" in shown
