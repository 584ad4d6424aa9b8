"""The command line as a user meets it: run --once, registration, errors, settings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import sources
from tests.conftest import ROOT, Cli, only
from tests.server import FixtureServer


def test_run_once_polls_and_writes_todays_digest_once(cli: Cli, http: FixtureServer,
                                                      swe_bench: Path, state_dir: Path) -> None:
    url = http.serve("/lb.json", (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    env = {"RESOLVER_SOURCES__SWE_BENCH__URL": url, "RESOLVER_DIGEST_CRON": "0 0 * * *",
           **only("swe-bench")}
    # A store's first digest is the one after its first successful poll (DESIGN section 8).
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%MZ")
    cli("poll", "swe-bench", "--from-file", str(swe_bench / "leaderboards.2025-05-07.json"),
        "--at", yesterday, **env)
    result = cli("run", "--once", **env)
    assert "poll source=swe-bench" in result.output
    assert "status=ok rows=247" in result.output
    assert "digest date=" in result.output
    digests = sorted(p.name for p in (state_dir / "digests").iterdir())
    assert [name.split(".", 1)[1] for name in digests] == ["html", "json", "md", "atom"]
    again = cli("run", "--once", **env)
    assert "status=unchanged" in again.output
    assert "digest date=" not in again.output  # today's digest is written once
    assert sorted(p.name for p in (state_dir / "digests").iterdir()) == digests


def test_run_once_exits_3_when_a_source_fails(cli: Cli, http: FixtureServer) -> None:
    result = cli("run", "--once", expect=3,
                 RESOLVER_SOURCES__SWE_BENCH__URL=http.url("/gone.json"), **only("swe-bench"))
    assert "swe-bench: HTTP 404" in result.output


def test_import_is_all_or_nothing_and_names_file_id_and_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[prediction]]\nid = "good"\nclaim = "swe-bench-verified >= 85% by 2025"\n'
                    '\n[[prediction]]\nid = "bad"\n'
                    'claim = "swe-bench-verified >= 85% by 2025 where steps <= 50"\n')
    result = cli("predict", "import", str(path), expect=1)
    line = result.output.strip()
    assert line.startswith(f"error: {path}:6: bad: claim ")
    assert "has no attribute 'steps'; it has checked, pass@1, open-weights" in line
    assert "\n" not in line and "Traceback" not in result.output
    assert json.loads(cli("predict", "list", "--json").output) == []


def test_registration_is_immutable(cli: Cli, tmp_path: Path) -> None:
    cli("predict", "add", "swe-bench-verified >= 85% by 2025-07-31", "--id", "p", "--title", "A")
    # The same claim, normalized, with new metadata: a no-op that updates the title.
    same = cli("predict", "add", "swe-bench-verified >= 85% by 2025-07-31 dated by result",
               "--id", "p", "--title", "B")
    assert same.output.startswith("already registered p")
    assert json.loads(cli("show", "p", "--json").output)["title"] == "B"
    other = cli("predict", "add", "swe-bench-verified >= 80% by 2025-07-31", "--id", "p",
                expect=1)
    assert "already registered with claim 'swe-bench-verified >= 85% by 2025-07-31" in other.output


def test_the_seed_predictions_register(cli: Cli) -> None:
    result = cli("predict", "import", str(ROOT / "examples" / "ai-2027.toml"))
    assert "13 registered" in result.output
    listed = json.loads(cli("predict", "list", "--json").output)
    claims = {p["id"]: p["claim"] for p in listed}
    made = {p["id"]: p["made"] for p in listed}
    assert made["ai2027-swe-bench-85"] == made["superhuman-coder-2030"] == "2025-04-03"
    assert claims["hle-50"] == "hle >= 50.5% by 2026-12-31 dated by result"  # a hub benchmark
    assert claims["metr-4x-in-a-year"] == (
        "metr-p50-horizon@1.1 >= 4x sota@2025-04-16 by 2026-04-16 dated by result")
    assert claims["metr-8h-in-21-months"] == (
        "metr-p50-horizon@1.1 >= 480min by 2027-01-31 dated by result")
    detail = json.loads(cli("show", "engineers-not-replaced-2027", "--json").output)
    assert detail["deadline"] == "2026-12-31"
    assert detail["bet"] == {"yes": "the sceptic", "no": "AI 2027 authors", "stake": "100 USD",
                             "if_annulled": {"payer": "the sceptic", "stake": "50 USD"}}
    metr = json.loads(cli("show", "metr-plateau", "--json").output)
    assert (metr["late_days"], metr["confirm_hours"]) == (90, 336)
    assert cli("predict", "import", str(ROOT / "examples" / "ai-2027.toml")).output.endswith(
        "0 registered, 13 already registered\n")


def test_manual_resolution_and_override(cli: Cli) -> None:
    cli("predict", "add", "manual", "--id", "m", "--deadline", "2026-12",
        "--criteria", "a person checks")
    assert cli("resolve", "m", "yes", "--note", "it happened", "--by", "ann").output == \
        "m: resolved yes\n"
    refused = cli("resolve", "m", "no", "--note", "changed my mind", expect=1)
    assert "pass --override" in refused.output
    cli("resolve", "m", "annul", "--note", "ambiguous", "--by", "bob", "--override")
    events = json.loads(cli("show", "m", "--json").output)["events"]
    assert [(e["to_status"], e["outcome"], e["by"], e["reason"]) for e in events] == [
        ("resolved", "yes", "ann", "it happened"), ("annulled", None, "bob", "ambiguous")]


@pytest.mark.parametrize("args, message", [
    (["show", "nope"], "error: no prediction with id 'nope'"),
    (["evidence", "abcdef12"], "error: no snapshot with sha256 abcdef12"),
    (["evidence", "xyz"], "is not a sha256"),
    (["poll", "nosuch"], "error: unknown source 'nosuch'; known: swe-bench,"),
    (["poll", "swe-bench", "--at", "2025-01-01"], "--at needs --from-file"),
    (["predict", "add", "swe-bench-verified >= 85 by 2025", "--id", "x"],
     "column 23: the threshold needs a unit"),
    (["predict", "add", "manual", "--id", "x"], "a manual claim needs 'deadline'"),
    (["predict", "add", "swe-bench-verified >= 85% by 2025", "--id", "bad id"], "'id' must be"),
    (["evaluate", "--at", "yesterday"], "not an ISO 8601 timestamp"),
    (["digest", "--date", "2025-13-01"], "not a date"),
])
def test_user_mistakes_are_one_line_and_exit_1(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args, expect=1)
    assert message in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("env, message", [
    ({"RESOLVER_FOO": "1"}, "RESOLVER_FOO: unknown setting"),
    ({"RESOLVER_POLL_EVERY": "often"}, "poll_every: invalid duration 'often'"),
    ({"RESOLVER_DIGEST_CRON": "30 6 * *"}, "digest_cron: invalid cron expression"),
    ({"RESOLVER_TIMEZONE": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
    ({"RESOLVER_SOURCES__SWE_BENCH__EVERY": "0s"}, "sources.swe-bench.every: duration"),
    ({"RESOLVER_SOURCES__NEW__URL": "http://x"}, "sources.new: a new source needs 'kind'"),
    ({"RESOLVER_HTTP_PORT": "99999"}, "http_port: Input should be less than or equal"),
])
def test_bad_settings_fail_at_start_with_one_line(cli: Cli, env: dict[str, str],
                                                  message: str) -> None:
    result = cli("sources", expect=1, **env)
    assert message in result.output and result.output.count("\n") == 1


def test_environment_over_toml_over_defaults(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "resolver.toml"
    config.write_text('poll_every = "2h"\n[sources.swe-bench]\nurl = "file:///mirror.json"\n'
                      'every = "1h"\n[sources.metr]\nlate_days = 10\n')
    env = {"RESOLVER_CONFIG": str(config), "RESOLVER_SOURCES__SWE_BENCH__EVERY": "15m"}
    listed = {s["name"]: s for s in json.loads(cli("sources", "--json", **env).output)}
    assert listed["swe-bench"]["url"] == "file:///mirror.json"  # TOML
    assert listed["swe-bench"]["every"] == "15m"  # environment wins
    assert listed["metr"]["every"] == "2h"  # the global TOML key
    bad = tmp_path / "bad.toml"
    bad.write_text("[sources.swe-bench]\nurll = 'x'\n")
    result = cli("sources", expect=1, RESOLVER_CONFIG=str(bad))
    assert result.output == f"error: {bad}: sources.swe-bench.urll: unknown key\n"


def test_late_days_come_from_the_most_specific_setting(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "resolver.toml"
    config.write_text('late_days = 5\n[sources.swe-bench]\nconfirm_polls = 4\n')
    env = {"RESOLVER_CONFIG": str(config)}
    cli("predict", "add", "swe-bench-verified >= 85% by 2025", "--id", "a", **env)
    cli("predict", "add", "swe-bench-verified >= 85% by 2025", "--id", "b", "--late-days", "9",
        **env)
    cli("predict", "add", "metr-p50-horizon >= 8h by 2027", "--id", "c", **env)
    shown = {i: json.loads(cli("show", i, "--json", **env).output) for i in "abc"}
    assert [(d["late_days"], d["confirm_polls"], d["confirm_hours"])
            for d in shown.values()] == [(5, 4, 72), (9, 4, 72), (5, 2, 336)]


def test_evidence_to_a_file(cli: Cli, swe_bench: Path, tmp_path: Path) -> None:
    path = swe_bench / "leaderboards.2025-05-07.json"
    output = cli("poll", "swe-bench", "--from-file", str(path), "--at", "2025-05-07",
                 "--json").output
    sha = json.loads(output[output.index("["):])[0]["sha256"]
    cli("evidence", sha, "-o", str(tmp_path / "copy.json"))
    assert (tmp_path / "copy.json").read_bytes() == path.read_bytes()


def test_every_command_has_help_and_is_in_the_readme(cli: Cli) -> None:
    from resolver.cli import cli as group

    readme = (ROOT / "README.md").read_text()
    names = [n for n in group.commands if n != "predict"]
    names += [f"predict {n}" for n in group.commands["predict"].commands]  # type: ignore[attr-defined]
    for name in names:
        assert f"resolver {name}" in readme, name
        assert "Usage:" in cli(*name.split(), "--help").output


def test_show_says_who_owes_whom(cli: Cli) -> None:
    cli("predict", "import", str(ROOT / "examples" / "ai-2027.toml"))
    bet_id = "engineers-not-replaced-2027"
    assert json.loads(cli("show", bet_id, "--json").output)["settlement"] is None
    cli("resolve", bet_id, "yes", "--note", "agents did not replace engineers", "--by", "judge")
    detail = json.loads(cli("show", bet_id, "--json").output)
    assert detail["settlement"] == {"yes": "the sceptic", "no": "AI 2027 authors",
                                    "stake": "100 USD", "payer": "AI 2027 authors",
                                    "payee": "the sceptic"}
    assert "bet:        AI 2027 authors owes the sceptic 100 USD" in cli("show", bet_id).output
    # Annulled: only the if_annulled terms settle anything.
    cli("resolve", bet_id, "annul", "--note", "the definition was disputed", "--override")
    assert json.loads(cli("show", bet_id, "--json").output)["settlement"] == {
        "yes": "the sceptic", "no": "AI 2027 authors", "stake": "50 USD",
        "payer": "the sceptic", "payee": "AI 2027 authors"}


def test_annulled_bet_without_terms_settles_nothing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bet.toml"
    path.write_text('[[prediction]]\nid = "b"\nclaim = "manual"\ndeadline = "2026"\n'
                    'criteria = "x"\n[prediction.bet]\nyes = "A"\nno = "B"\nstake = "1 beer"\n')
    cli("predict", "import", str(path))
    cli("resolve", "b", "annul", "--note", "void")
    assert json.loads(cli("show", "b", "--json").output)["settlement"] is None


def test_every_setting_and_source_kind_is_documented() -> None:
    import sources
    from resolver.settings import Settings

    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        documented = f"`{name}`" in readme or f"RESOLVER_{name.upper()}" in readme
        assert documented, f"setting {name} is not in the README"
    for kind in sources.registry():
        assert f"| {kind.name} |" in readme, kind.name
    from resolver.settings import OPTIONS

    for option in OPTIONS:  # a source's options, as the README's examples write them
        assert f"\n{option} = " in readme, option


def test_the_readme_declared_sources_work(cli: Cli, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's two declared sources, as written there, load and decide their claims."""
    import re

    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```toml\n(\[sources\.(?:arc-prize|lmarena)\].*?)```", readme, re.S)
    assert len(blocks) == 2
    config = tmp_path / "resolver.toml"
    config.write_text("\n".join(blocks), encoding="utf-8")
    monkeypatch.setenv("RESOLVER_CONFIG", str(config))
    cli("predict", "add", 'arc-agi-2-semi >= 50% by 2026 where provider = "OpenAI"', "--id", "a")
    cli("predict", "add", "arena-elo >= 1500 by 2026", "--id", "e")
    arc = tmp_path / "arc.json"
    arc.write_text(json.dumps([{"datasetId": "v2_Semi_Private", "score": 0.55,
                                "modelReleaseDate": "2026-03-01", "modelId": "m",
                                "modelDisplayName": "M", "provider": "OpenAI"}]))
    csv = tmp_path / "arena.csv"
    csv.write_text("Model,Arena Score,Date\nX,1501,2026-03-02\n")
    cli("poll", "arc-prize", "--from-file", str(arc), "--at", "2026-03-03T00:00Z")
    cli("poll", "lmarena", "--from-file", str(csv), "--at", "2026-03-03T00:00Z")
    assert [e["outcome"] for e in cli.events("a")] == ["yes"]
    assert [e["outcome"] for e in cli.events("e")] == ["yes"]


def test_the_sample_configuration_loads(state_dir: Path) -> None:
    from resolver.settings import load

    settings = load({"RESOLVER_STATE_DIR": str(state_dir),
                     "RESOLVER_CONFIG": str(ROOT / "examples" / "resolver.toml")})
    configured = settings.resolved_sources()
    assert configured["swe-bench"].every == 3 * 3600
    assert configured["swe-bench-site"].kind == "swe-bench-leaderboards"


def test_log_lines_are_json_when_asked(cli: Cli, swe_bench: Path) -> None:
    result = cli("poll", "swe-bench", "--from-file",
                 str(swe_bench / "leaderboards.2025-09-10-bad-unit.json"), "--at", "2025-09-10",
                 RESOLVER_LOG_JSON="1")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["event"] for line in lines] == ["poll", "rejected"]
    assert (lines[0]["source"], lines[0]["status"], lines[0]["rows"]) == ("swe-bench", "ok", 277)
    assert lines[1]["level"] == "warning" and lines[1]["reason"].startswith("value 271")


def test_run_once_offline_costs_one_timeout_and_points_to_the_offline_trial(
        cli: Cli, http: FixtureServer) -> None:
    """Every source unreachable (a closed loopback port): they are tried at once, so the
    cycle takes about one timeout, and the last line says where to go from there."""
    import socket
    import time

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = {f"RESOLVER_SOURCES__{s.name.upper().replace('-', '_')}__URL":
           f"http://127.0.0.1:{closed}/{s.name}" for s in sources.BUILTIN}
    started = time.monotonic()
    result = cli("run", "--once", expect=3, RESOLVER_HTTP_TIMEOUT="3s", **env)
    took = time.monotonic() - started
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(sources.BUILTIN) + 1
    assert all(line.split(": ", 1)[1].startswith("cannot connect to 127.0.0.1:")
               for line in lines[:-1])
    assert lines[-1].startswith("no source could be reached (offline?)")
    assert took < 3 * 2  # sequentially it was one timeout per source
