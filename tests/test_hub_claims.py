"""Every hub benchmark and every declared source in the claim language, the settings and the
store (issue 10): points claims, hub filters, declared JSON and CSV leaderboards end to end,
mapping mistakes at start, a member that fails alone, and the three zips replayed."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from resolver import claims
from resolver.errors import ClaimError
from resolver.settings import load
from tests.conftest import Cli, fixtures_dir

HUB = [("benchmark_data.2026-01-20.zip", "2026-01-20T11:09:02Z"),
       ("benchmark_data.2026-04-19.zip", "2026-04-19T23:39:49Z"),
       ("benchmark_data.2026-04-29.zip", "2026-04-30T03:50:41Z")]


@pytest.mark.parametrize(("claim", "normalized"), [
    ("eci >= 160 by 2026-H2", "eci >= 160 by 2026-12-31 dated by result"),
    ("eci >= 160pts by 2026-H2", "eci >= 160 by 2026-12-31 dated by result"),
    ("webdev-arena > 1500.5 by 2027", "webdev-arena > 1500.5 by 2027-12-31 dated by result"),
    ("hle >= 50% by 2026-12-31", "hle >= 50% by 2026-12-31 dated by result"),
    ('terminal-bench >= 80% by 2026-Q3 where agent = "Droid"',
     'terminal-bench >= 80% by 2026-09-30 dated by result where agent = "Droid"'),
    ('arc-agi-2 >= 85% by 2026 where org = "OpenAI"',
     'arc-agi-2 >= 85% by 2026-12-31 dated by result where org = "OpenAI"'),
])
def test_hub_claims_parse_and_normalize(claim: str, normalized: str) -> None:
    parsed = claims.parse(claim)
    assert parsed.normalized == normalized
    assert claims.parse(parsed.normalized) == parsed
    assert parsed.source == "epoch-hub"


@pytest.mark.parametrize(("claim", "problem"), [
    ("eci >= 160% by 2026", "eci is measured in points: write a bare number, such as 160"),
    ("eci >= 2h by 2026", "eci is measured in points"),
    ("hle >= 50 by 2026", "the threshold needs a unit: hle is measured in percent"),
    ('hle >= 50% by 2026 where agent = "Droid"', "hle has no attribute 'agent'; it has org"),
    ("terminal-bench >= 80% by 2026 where agent", 'agent is a text attribute: write agent = "..."'),
    ("hle >= 50% by 2026 where fast", "unknown filter 'fast'"),
])
def test_hub_claim_errors_are_one_line(claim: str, problem: str) -> None:
    with pytest.raises(ClaimError) as error:
        claims.parse(claim)
    assert problem in error.value.problem


def declared_config(tmp_path: Path, **extra: str) -> Path:
    lines = ['[sources.arc-prize]', 'kind = "json"', 'url = "https://example.org/x.json"',
             '''rows = "[?datasetId=='v2_Semi_Private']"''', 'benchmark = "arc-agi-2-semi"',
             'unit = "%"', 'scale = 100', 'value = "score"', 'date = "modelReleaseDate"',
             'key = "modelId"', 'subject = "modelDisplayName"',
             'attributes = { provider = "provider" }']
    lines += [f"{name} = {value}" for name, value in extra.items()]
    path = tmp_path / "resolver.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_declared_json_leaderboard_end_to_end(cli: Cli, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVER_CONFIG", str(declared_config(tmp_path)))
    cli("predict", "add", 'arc-agi-2-semi >= 50% by 2026 where provider = "OpenAI"', "--id", "a")
    rows = [{"datasetId": "v2_Semi_Private", "score": 0.62, "modelReleaseDate": "2026-02-01",
             "modelId": "o9", "modelDisplayName": "o9 (high)", "provider": "OpenAI"},
            {"datasetId": "v2_Semi_Private", "score": 0.71, "modelReleaseDate": "2026-02-01",
             "modelId": "g9", "modelDisplayName": "G9", "provider": "Google"},
            {"datasetId": "v1_Public", "score": 0.99, "modelReleaseDate": "2026-02-01",
             "modelId": "o9", "modelDisplayName": "o9 (high)", "provider": "OpenAI"}]
    path = tmp_path / "arc.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    cli("poll", "arc-prize", "--from-file", str(path), "--at", "2026-02-02T00:00Z")
    [event] = cli.events("a")
    assert (event["to_status"], event["outcome"]) == ("provisional", "yes")
    assert event["evidence"]["key"] == "o9" and event["evidence"]["value"] == 62.0
    listed = json.loads(cli("sources", "--json").output)
    arc = next(item for item in listed if item["name"] == "arc-prize")
    assert arc["benchmarks"] == [{"id": "arc-agi-2-semi", "unit": "%", "rows": 2,
                                  "best": {"value": 71.0, "subject": "G9", "key": "g9",
                                           "result_date": "2026-02-01"}}]


def test_a_declared_csv_leaderboard_end_to_end(cli: Cli, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "resolver.toml"
    config.write_text('[sources.lmarena]\nkind = "csv"\nurl = "https://example.org/a.csv"\n'
                      'benchmark = "arena-elo"\nunit = "pts"\nvalue = "Arena Score"\n'
                      'date = "Date"\nsubject = "Model"\n', encoding="utf-8")
    monkeypatch.setenv("RESOLVER_CONFIG", str(config))
    cli("predict", "add", "arena-elo >= 1500 by 2026", "--id", "elo")
    path = tmp_path / "arena.csv"
    path.write_text("Model,Arena Score,Date\nA,1490.5,2026-01-03\nB,1502,2026-01-05\n"
                    "A,1510,2025-12-01\n", encoding="utf-8")
    cli("poll", "lmarena", "--from-file", str(path), "--at", "2026-01-06T00:00Z")
    [event] = cli.events("elo")
    assert event["evidence"]["key"] == "A #2" and event["evidence"]["value"] == 1510.0
    shown = cli("show", "elo").output
    assert "best in window: 1,510.0 by A (A #2, dated 2025-12-01)" in shown


@pytest.mark.parametrize(("extra", "message"), [
    ({"unit": '"furlongs"'}, "sources.arc-prize.unit:"),
    ({"rows": '"[?"'}, "sources.arc-prize.rows:"),
    ({"value": '""'}, "sources.arc-prize.value:"),
])
def test_a_mapping_mistake_fails_at_start_with_one_line(cli: Cli, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        extra: dict[str, str],
                                                        message: str) -> None:
    path = declared_config(tmp_path)
    text = path.read_text(encoding="utf-8")
    for name, value in extra.items():
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith(f"{name} ")) + f"\n{name} = {value}\n"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("RESOLVER_CONFIG", str(path))
    result = cli("sources", expect=1)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), result.output


def test_a_declared_source_names_its_missing_field_as_a_failed_fetch(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVER_CONFIG", str(declared_config(tmp_path)))
    path = tmp_path / "arc.json"
    path.write_text(json.dumps([{"datasetId": "v2_Semi_Private", "modelReleaseDate": "2026",
                                 "modelId": "x", "modelDisplayName": "x"}]), encoding="utf-8")
    result = cli("poll", "arc-prize", "--from-file", str(path), "--at", "2026-02-02T00:00Z",
                 expect=3)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("arc-prize: unusable payload: value field 'score'")


def test_a_member_that_fails_alone_keeps_its_rows(cli: Cli, tmp_path: Path) -> None:
    """hle's member loses its value column in a later zip: its rows stay (no retraction,
    no late outcome), the other members are ingested."""
    hub = fixtures_dir() / "epoch" / "hub"
    cli("predict", "add", "hle >= 99% by 2026-01-31", "--id", "hle", "--late-days", "0")
    cli("predict", "add", "gpqa-diamond >= 99% by 2026-01-31", "--id", "gpqa",
        "--late-days", "0")
    first = hub / "benchmark_data.2026-04-19.zip"
    cli("poll", "epoch-hub", "--from-file", str(first), "--at", "2026-04-20T00:00Z")
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(first) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("hle_external.csv"):
                lines = data.decode("utf-8").splitlines()
                header = lines[0].split(",")
                at = header.index("Accuracy")
                data = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != at)
                                 for line in lines).encode()
            target.writestr(info, data)
    rows_before = {b["id"]: b["rows"] for item in json.loads(cli("sources", "--json").output)
                   if item["name"] == "epoch-hub" for b in item["benchmarks"]}
    result = cli("poll", "epoch-hub", "--from-file", str(broken), "--at", "2026-04-21T00:00Z")
    assert "retracted=" not in result.output
    rows_after = {b["id"]: b["rows"] for item in json.loads(cli("sources", "--json").output)
                  if item["name"] == "epoch-hub" for b in item["benchmarks"]}
    assert rows_after["hle"] == rows_before["hle"] > 0
    # gpqa's late outcome came with the first poll; hle's too, and the broken poll counted
    # for neither hle's confirmation... nor took anything away.
    assert [e["to_status"] for e in cli.events("hle")] == ["provisional"]
    health = json.loads(cli("digest", "--date", "2026-04-21", "--format", "json",
                            "--stdout").output)
    hub_health = next(s for s in health["sources"] if s["name"] == "epoch-hub")
    assert hub_health["suspicious"] == []
    [flag] = hub_health["members_failed"]
    assert flag["benchmark"] == "hle" and flag["reason"].startswith("failed: ")
    assert "hle did not parse (failed: " in cli("digest", "--date", "2026-04-21",
                                                "--stdout").output
    assert "epoch-hub: hle did not parse" in cli("sources").output


def test_the_three_hub_zips_replayed_decide_claims_on_six_benchmarks(cli: Cli) -> None:
    hub = fixtures_dir() / "epoch" / "hub"
    entries = {
        "hle-30": "hle >= 30% by 2026-12-31",  # hle appears only after 2026-01-20
        "frontiermath-44": "frontiermath >= 44% by 2026-12-31",
        "eci-150": "eci >= 150 by 2026-12-31",
        "webdev-1500": "webdev-arena >= 1500 by 2026-12-31",
        "gpqa-90": "gpqa-diamond >= 90% by 2026-12-31",
        "arc-2-99": "arc-agi-2 >= 99% by 2025-12-31",  # never: late no
        "balrog-80": "balrog >= 80% by 2026-12-31",  # the member renames a column
    }
    for name, claim in entries.items():
        cli("predict", "add", claim, "--id", name, "--late-days", "30", "--confirm-hours", "24")
    balrog_rows = []
    for name, at in HUB:
        cli("poll", "epoch-hub", "--from-file", str(hub / name), "--at", at)
        listed = json.loads(cli("sources", "--json").output)
        hub_source = next(item for item in listed if item["name"] == "epoch-hub")
        balrog_rows.append(next(b["rows"] for b in hub_source["benchmarks"]
                                if b["id"] == "balrog"))
    timelines = {name: [(e["to_status"], e["outcome"], e["at"], (e["evidence"] or {}).get(
        "key") or ((e["evidence"] or {}).get("row") or {}).get("key")) for e in cli.events(name)]
        for name in entries}
    first, second, third = (at for _, at in HUB)
    # The best row of the member, read here from the CSV bytes, decides each claim.
    hle = best_row(hub / HUB[1][0], "hle_external.csv", "Accuracy", "id")
    webdev = best_row(hub / HUB[0][0], "webdev_arena_external.csv", "Arena Score", "id")
    assert timelines == {
        "hle-30": [("provisional", "yes", second, hle), ("resolved", "yes", third, hle)],
        "frontiermath-44": [("provisional", "yes", second, "pre-release-gpt-5-4-pro-fm-t13"),
                            ("resolved", "yes", third, "pre-release-gpt-5-4-pro-fm-t13")],
        "eci-150": [("provisional", "yes", first, "gemini-3-pro-preview #1"),
                    ("resolved", "yes", second, "gemini-3-pro-preview #1")],
        "webdev-1500": [("provisional", "yes", first, webdev),
                        ("resolved", "yes", second, webdev)],
        "gpqa-90": [("provisional", "yes", first, "Cg54udQGcTCnfDGX2qePLZ"),
                    ("resolved", "yes", second, "Cg54udQGcTCnfDGX2qePLZ")],
        # arc-agi-2 first appears after 2026-01-20; its late no comes at the next zip.
        "arc-2-99": [("provisional", "no", second, "recC6V59wjvT4mX12"),
                     ("resolved", "no", third, "recC6V59wjvT4mX12")],
        "balrog-80": [],
    }
    # balrog's progress column is renamed between zips (BabalsAI -> BabaIsAI): its rows
    # are read the same way in every zip.
    assert balrog_rows[0] > 0 and balrog_rows == sorted(balrog_rows)


def best_row(path: Path, member: str, column: str, key: str) -> str:
    import csv

    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/" + member) or n == member)
        rows = list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))
    return max((row for row in rows if row[column].strip()),
               key=lambda row: float(row[column]))[key]


def test_an_unknown_member_is_news_once(cli: Cli, tmp_path: Path) -> None:
    def hub(name: str, accuracy: float) -> str:
        """A hub zip with HLE at ``accuracy`` and a member resolver has no unit for."""
        body = io.BytesIO()
        with zipfile.ZipFile(body, "w") as archive:
            archive.writestr("hle_external.csv", "Model version,Accuracy,Release date,id\n"
                             f"m1,{accuracy},2026-01-01,r1\n")
            archive.writestr("brand_new_external.csv", "Model version,Score,Release date,id\n"
                             "m1,0.5,2026-01-01,r1\n")
        path = tmp_path / name
        path.write_bytes(body.getvalue())
        return str(path)

    cli("poll", "epoch-hub", "--from-file", hub("hub.zip", 0.5), "--at", "2026-01-02T10:00Z")
    cli("poll", "epoch-hub", "--from-file", hub("hub2.zip", 0.6), "--at", "2026-01-03T10:00Z")
    first = cli("digest", "--date", "2026-01-03", "--stdout").output
    later = cli("digest", "--date", "2026-01-04", "--stdout").output
    assert "epoch-hub: new member brand_new_external.csv: unit unknown" in first
    assert "new member" not in later  # reported once per change, not every day
    assert "new member brand_new_external.csv: unit unknown" in cli("sources").output


def test_a_mapped_member_is_ingested_with_its_unit(cli: Cli, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "resolver.toml"
    config.write_text('[sources.epoch-hub.members."new_bench_external.csv"]\nunit = "%"\n'
                      "scale = 100\n", encoding="utf-8")
    monkeypatch.setenv("RESOLVER_CONFIG", str(config))
    settings = load({"RESOLVER_CONFIG": str(config), "RESOLVER_STATE_DIR": str(tmp_path)})
    assert settings.kinds.unit("new-bench") == "%"
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as archive:
        archive.writestr("new_bench_external.csv", "Model version,Score,Release date,id\n"
                         "m1,0.5,2026-01-01,r1\n")
    path = tmp_path / "hub.zip"
    path.write_bytes(body.getvalue())
    cli("predict", "add", "new-bench >= 40% by 2026", "--id", "n")
    cli("poll", "epoch-hub", "--from-file", str(path), "--at", "2026-01-02T00:00Z")
    assert cli.events("n")[0]["evidence"]["value"] == 50.0


def test_one_key_naming_two_rows_counts_neither(cli: Cli, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A declared source whose key repeats with different values: which row is right cannot
    be known, so neither counts; the benchmark fails at that poll (no late outcome from it)
    and its earlier rows stay."""
    config = tmp_path / "resolver.toml"
    config.write_text('[sources.toy]\nkind = "json"\nurl = "https://example.org/t.json"\n'
                      'benchmark = "toy-bench"\nunit = "%"\nscale = 100\nvalue = "v"\n'
                      'date = "d"\nkey = "id"\nsubject = "id"\n', encoding="utf-8")
    monkeypatch.setenv("RESOLVER_CONFIG", str(config))
    cli("predict", "add", "toy-bench >= 90% by 2025", "--id", "toy", "--late-days", "0")
    first = tmp_path / "one.json"
    first.write_text(json.dumps([{"id": "b", "v": 0.5, "d": "2025-03-01"}]))
    cli("poll", "toy", "--from-file", str(first), "--at", "2025-06-01T00:00Z")
    twice = tmp_path / "two.json"
    twice.write_text(json.dumps([{"id": "m1", "v": 0.42, "d": "2025-06-01"},
                                 {"id": "m1", "v": 0.95, "d": "2025-06-01"},
                                 {"id": "b", "v": 0.5, "d": "2025-03-01"}]))
    result = cli("poll", "toy", "--from-file", str(twice), "--at", "2026-01-02T00:00Z")
    assert "retracted=" not in result.output
    assert cli.events("toy") == []  # no late "no" while a crossing row may be in the payload
    notes = next(s for s in json.loads(cli("sources", "--json").output)
                 if s["name"] == "toy")["notes"]
    assert notes["failed"] == {"toy-bench": "key 'm1' names two different rows (values 42 "
                                            "and 95): neither counts"}
