"""The whole Epoch hub: every member of the three captured zips, by the rule and the unit
table; drift between zips; health per member; members the table does not know.

Expected values are read from the CSV bytes here, with the csv module, not copied from the
parser's output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from sources import epoch_members, epoch_zip
from sources.base import Observation, OptionsError, PayloadError, Snapshot

ZIPS = ("2026-01-20", "2026-04-19", "2026-04-29")
Rows = list[dict[str, str]]


@pytest.fixture
def hub(fixtures: Path) -> Path:
    return fixtures / "epoch" / "hub"


def body(hub: Path, day: str = "2026-04-29") -> bytes:
    return (hub / f"benchmark_data.{day}.zip").read_bytes()


def members(data: bytes) -> dict[str, bytes]:
    """Every entry of a zip, by its full name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()
                if not info.is_dir()}


def rezip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def table(data: bytes) -> Rows:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def rows_of(hub: Path, member: str, day: str = "2026-04-29") -> Rows:
    entries = members(body(hub, day))
    [name] = [n for n in entries if n.rsplit("/", 1)[-1] == member]
    return table(entries[name])


def edit(data: bytes, change: Callable[[list[list[str]]], list[list[str]]]) -> bytes:
    """A CSV member rewritten through ``change`` (a list of rows, the header first)."""
    grid = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(change(grid))
    return out.getvalue().encode()


def without(column: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(grid: list[list[str]]) -> list[list[str]]:
        at = grid[0].index(column)
        return [row[:at] + row[at + 1:] for row in grid]
    return change


def of(snapshot: Snapshot, benchmark: str) -> dict[str, Observation]:
    return {o.key: o for o in snapshot.observations if o.benchmark == benchmark}


def day(raw: str) -> str | None:
    """A cell's date as the DESIGN reads it: ISO, a time with an offset in UTC."""
    raw = raw.strip()
    if not raw:
        return None
    if "T" in raw:
        return dt.datetime.fromisoformat(raw).astimezone(dt.UTC).date().isoformat()
    return dt.date.fromisoformat(raw[:10]).isoformat()


def numbered(rows: Rows, *columns: str) -> list[str]:
    """Keys of a member without an id: the columns' non-blank cells + the n-th occurrence."""
    seen: Counter[str] = Counter()
    keys = []
    for row in rows:
        text = " | ".join(row[c].strip() for c in columns if row[c].strip())
        seen[text] += 1
        keys.append(f"{text} #{seen[text]}")
    return keys


# -- every member --------------------------------------------------------------------------

@pytest.mark.parametrize("day", ZIPS)
def test_every_member_of_every_zip_is_read(hub: Path, day: str) -> None:
    data = body(hub, day)
    snapshot = epoch_zip.parse(data)
    assert snapshot.failed == {} and snapshot.unknown == [] and snapshot.rejections == []
    assert snapshot.skipped == []
    entries = {n.rsplit("/", 1)[-1]: d for n, d in members(data).items()
               if n.endswith(".csv") and "additional_eci_data" not in n}
    assert set(entries) <= set(epoch_members.MEMBERS)
    counts = Counter(o.benchmark for o in snapshot.observations)
    for name, data_ in entries.items():
        member = epoch_members.MEMBERS[name]
        rows = table(data_)
        header = list(rows[0])
        # The table's headline column is the one the rule finds.
        rule = "mean_score" if "mean_score" in header else header[header.index("Release date") - 1]
        assert member.value == rule, name
        stated = sum(1 for row in rows if row[rule].strip())
        benchmark = epoch_members.benchmark_id(name, member)
        assert counts[benchmark] == stated, name
        assert snapshot.blank.get(benchmark, 0) == len(rows) - stated, name
    assert not any(o.benchmark.startswith("eci-data") for o in snapshot.observations)


def test_the_ids_of_the_rule_and_its_exceptions(hub: Path) -> None:
    ids = set(epoch_zip.SOURCE_KIND.benchmarks({}))
    assert {"hle", "arc-agi-2", "frontiermath-tier-4", "swe-bench-verified",
            "swe-bench-bash-only", "osworld", "metr-p50-horizon", "metr-p80-horizon", "eci",
            "terminal-bench", "otis-mock-aime", "webdev-arena", "lech-mazur-writing"} <= ids
    assert len(ids) == 51  # 50 members, METR's yields two
    kind = epoch_zip.SOURCE_KIND.benchmarks({})
    assert dict(kind["terminal-bench"].attributes) == {"agent": str, "org": str}
    assert dict(kind["gso"].attributes) == {"scaffold": str, "org": str}
    assert dict(kind["metr-p80-horizon"].attributes) == {"method": str, "org": str}
    assert (kind["eci"].unit, kind["aider-polyglot"].unit, kind["metr-p50-horizon"].unit,
            kind["hle"].unit) == ("pts", "%", "min", "%")


# -- values per unit class -----------------------------------------------------------------

def test_a_fraction_member_is_percent_dated_by_release(hub: Path) -> None:
    snapshot = epoch_zip.parse(body(hub))
    hle = of(snapshot, "hle")
    rows = rows_of(hub, "hle_external.csv")
    assert len(hle) == len(rows) == 47
    for row in rows:
        got = hle[row["id"]]
        assert got.value == round(float(row["Accuracy"]) * 100, 9)
        assert got.result_date == day(row["Release date"])  # hle has no result-date column
        assert got.subject == row["Model version"]
        assert got.attributes == {"org": row["Organization"]} if row["Organization"] else {}
    assert max(o.value for o in hle.values()) == 46.44


def test_epoch_own_runs_are_dated_when_they_started_only(hub: Path) -> None:
    gpqa = of(epoch_zip.parse(body(hub)), "gpqa-diamond")
    rows = rows_of(hub, "gpqa_diamond.csv")
    assert len(gpqa) == len(rows)
    for row in rows:
        got = gpqa[row["id"]]
        assert got.value == round(float(row["mean_score"]) * 100, 9)
        assert got.result_date == day(row["Started at"])  # blank: no date, no fall-through
    undated = [row for row in rows if not row["Started at"].strip()]
    assert len(undated) == 1 and undated[0]["Release date"]
    assert gpqa[undated[0]["id"]].result_date is None


def test_a_percent_member_is_not_scaled(hub: Path) -> None:
    snapshot = epoch_zip.parse(body(hub))
    aider = of(snapshot, "aider-polyglot")
    rows = rows_of(hub, "aider_polyglot_external.csv")
    for row in rows:
        got = aider[row["id"]]
        assert got.value == float(row["Percent correct"])
        # 'Date of evaluation' where given, else the release date.
        assert got.result_date == (day(row["Date of evaluation"]) or day(row["Release date"]))
    assert max(o.value for o in aider.values()) == 88.0
    assert {row["Date of evaluation"].strip() == "" for row in rows} == {True, False}
    live = of(snapshot, "live-bench")
    assert max(o.value for o in live.values()) == 82.35


def test_points_members(hub: Path) -> None:
    snapshot = epoch_zip.parse(body(hub))
    eci = of(snapshot, "eci")
    rows = rows_of(hub, "epoch_capabilities_index.csv")
    keys = numbered(rows, "Model version")  # no id, no Agent/Scaffold/Name
    scored = [(key, row) for key, row in zip(keys, rows, strict=True) if row["ECI Score"].strip()]
    assert len(eci) == len(scored) == 369 and len(rows) == 608
    assert snapshot.blank["eci"] == 239  # a blank ECI Score is not a result, only counted
    for key, row in scored:
        assert eci[key].value == float(row["ECI Score"])  # as stated: scale 1 is not rounded
        assert eci[key].result_date == day(row["Release date"])
    assert round(max(o.value for o in eci.values()), 4) == 158.6686
    arena = of(snapshot, "webdev-arena")
    for row in rows_of(hub, "webdev_arena_external.csv"):
        assert arena[row["id"]].value == float(row["Arena Score"])
    assert max(o.value for o in arena.values()) == 1556.29


def test_metr_minutes_both_horizons_and_their_method(hub: Path) -> None:
    snapshot = epoch_zip.parse(body(hub))
    p50, p80 = of(snapshot, "metr-p50-horizon"), of(snapshot, "metr-p80-horizon")
    rows = rows_of(hub, "metr_time_horizons_external.csv")
    assert len(p50) == len(rows) == 47
    assert len(p80) == sum(1 for row in rows if row["Time Horizon (80%)"].strip()) == 14
    for row in rows:
        got = p50[row["id"]]
        assert got.value == float(row["Time horizon"])
        assert (got.ci_low, got.ci_high) == (float(row["CI_low"]), float(row["CI_high"]))
        assert got.attributes["method"] == ("1.1" if row["METR version"] else "1.0")
        if row["Time Horizon (80%)"].strip():
            assert p80[row["id"]].value == float(row["Time Horizon (80%)"])
            assert p80[row["id"]].ci_low is None
    assert max(o.value for o in p50.values()) == 718.80683


def test_keys_without_an_id(hub: Path) -> None:
    snapshot = epoch_zip.parse(body(hub))
    lech = of(snapshot, "lech-mazur-writing")
    rows = rows_of(hub, "lech_mazur_writing_external.csv")  # 'ID' is not a key
    keys = numbered(rows, "Model version")
    assert set(lech) == set(keys)
    assert {"Llama-4-Maverick-17B-128E-Instruct #1",
            "Llama-4-Maverick-17B-128E-Instruct #2"} <= set(lech)
    for key, row in zip(keys, rows, strict=True):
        assert lech[key].value == float(row["Mean score"])  # points, out of 10
    company = of(snapshot, "the-agent-company")
    rows = rows_of(hub, "the_agent_company_external.csv")
    keys = numbered(rows, "Model version", "Name")
    assert set(company) == set(keys) and all(" | " in key for key in keys)
    for key, row in zip(keys, rows, strict=True):
        assert company[key].value == round(float(row["% Score"]) * 100, 9)
        assert company[key].result_date == day(row["Date"])  # 'Date', not the release
    post = of(snapshot, "posttrainbench")
    rows = rows_of(hub, "posttrainbench_external.csv")
    keys = numbered(rows, "Model version", "Scaffold", "Name")
    assert set(post) == set(keys)
    assert {o.attributes.get("scaffold") for o in post.values()} == {
        row["Scaffold"] for row in rows}


def test_osworld_keeps_agent_and_source_as_its_key(hub: Path) -> None:
    osworld = of(epoch_zip.parse(body(hub)), "osworld")
    rows = rows_of(hub, "os_world_external.csv")
    assert len(osworld) == len(rows) == 56
    for row in rows:
        agent = row["Agent"].strip() or row["Model version"].strip()
        got = osworld[f"{agent} | {row['Source'].strip()}"]
        assert (got.subject, got.value) == (agent, float(row["Score"]))
        assert got.attributes["reported-by"] == row["Source"]
        assert got.result_date == (day(row["Date added"]) or day(row["Release date"]))


def test_terminal_bench_is_dated_by_its_run_and_states_its_agent(hub: Path) -> None:
    terminal = of(epoch_zip.parse(body(hub)), "terminal-bench")
    rows = rows_of(hub, "terminalbench_external.csv")
    assert len(terminal) == len(rows) == 182
    for row in rows:
        got = terminal[row["id"]]
        assert got.value == round(float(row["Accuracy mean"]) * 100, 9)
        assert got.result_date == (day(row["Run date"]) or day(row["Release date"]))
        assert got.attributes.get("agent") == (row["Agent"].strip() or None)
    assert sum(1 for row in rows if row["Run date"].strip()
               and row["Run date"][:10] != row["Release date"][:10]) > 100


# -- drift ---------------------------------------------------------------------------------

def test_members_that_appear_later(hub: Path) -> None:
    january, april = epoch_zip.parse(body(hub, "2026-01-20")), epoch_zip.parse(body(hub))
    before = {o.benchmark for o in january.observations}
    after = {o.benchmark for o in april.observations}
    assert after - before == {"hle", "gdpval", "arc-agi-2", "apex-agents", "posttrainbench",
                              "metr-p80-horizon"}
    gdpval = of(april, "gdpval")
    for row in rows_of(hub, "gdpval_external.csv"):
        assert gdpval[row["id"]].value == round(float(row["Win + tie rate (%)"]) * 100, 9)


def test_a_renamed_column_elsewhere_changes_nothing(hub: Path) -> None:
    entries = members(body(hub))
    balrog = entries["balrog_external.csv"]
    assert b"BabaIsAI progress" in balrog
    renamed = dict(entries, **{"balrog_external.csv": balrog.replace(b"BabaIsAI", b"BabalsAI")})
    assert epoch_zip.parse(rezip(renamed)) == epoch_zip.parse(body(hub))
    # The 2026-01-20 member still had the old name: it is read by the same rule.
    old = of(epoch_zip.parse(body(hub, "2026-01-20")), "balrog")
    for row in rows_of(hub, "balrog_external.csv", "2026-01-20"):
        assert "BabalsAI progress" in row
        assert old[row["id"]].value == round(float(row["Average progress"]) * 100, 9)
        assert old[row["id"]].result_date == day(row["Date added"])


def test_members_under_one_top_folder_read_as_at_the_root(hub: Path) -> None:
    foldered = members(body(hub, "2026-04-19"))
    assert all(name.startswith("benchmark_data/") for name in foldered)
    at_root = rezip({name.removeprefix("benchmark_data/"): data
                     for name, data in foldered.items()})
    assert epoch_zip.parse(at_root) == epoch_zip.parse(body(hub, "2026-04-19"))


def test_which_files_are_members() -> None:
    hle = b"Model version,Accuracy,Release date,Organization,id\nm,0.5,2026-01-01,X,r1\n"
    gso = (b"Model version,Scaffold,Score OPT@1,Release date,Organization,id\n"
           b"m,s,0.25,2026-01-01,X,g1\n")
    # Root CSVs win over a folder's; deeper files and the metadata are never members.
    snapshot = epoch_zip.parse(rezip({
        "hle_external.csv": hle, "data/gso_external.csv": gso,
        "additional_eci_data/gso_external.csv": gso, "benchmark_metadata.csv": b"a\n1\n",
        "model_metadata.csv": b"a\n1\n", "README.md": b"# licence\n"}))
    assert {o.benchmark for o in snapshot.observations} == {"hle"} and snapshot.unknown == []
    # No root CSV: the single top folder's, not deeper ones.
    snapshot = epoch_zip.parse(rezip({"README.md": b"x", "data/hle_external.csv": hle,
                                      "data/deeper/gso_external.csv": gso}))
    assert {o.benchmark for o in snapshot.observations} == {"hle"}
    # Two top folders: no members at all.
    with pytest.raises(PayloadError, match=r"no \*\.csv at the root or under one top folder"):
        epoch_zip.parse(rezip({"a/hle_external.csv": hle, "b/gso_external.csv": gso}))


# -- health per member ---------------------------------------------------------------------

def test_a_member_without_its_value_column_fails_alone(hub: Path) -> None:
    entries = members(body(hub))
    whole = epoch_zip.parse(body(hub))
    broken = dict(entries, **{"hle_external.csv": edit(entries["hle_external.csv"],
                                                       without("Accuracy"))})
    snapshot = epoch_zip.parse(rezip(broken))
    assert snapshot.failed == {"hle": "hle_external.csv: missing its value column 'Accuracy'"}
    assert of(snapshot, "hle") == {}
    assert snapshot.observations == [o for o in whole.observations if o.benchmark != "hle"]


def test_a_member_that_loses_its_mean_score_or_started_at_fails(hub: Path) -> None:
    entries = members(body(hub))
    gpqa = entries["gpqa_diamond.csv"]
    for column, reason in (("mean_score", "missing its value column 'mean_score'"),
                           ("Started at", "missing column 'Started at'")):
        snapshot = epoch_zip.parse(rezip(dict(entries, **{
            "gpqa_diamond.csv": edit(gpqa, without(column))})))
        assert snapshot.failed == {"gpqa-diamond": f"gpqa_diamond.csv: {reason}"}
        assert len(of(snapshot, "frontiermath")) == 92


def test_members_that_do_not_decode_fail_alone_and_name_all_their_benchmarks(hub: Path) -> None:
    entries = members(body(hub))
    snapshot = epoch_zip.parse(rezip(dict(entries, **{
        "metr_time_horizons_external.csv": b"Model version,Time horizon\n\xff\xfe,1\n",
        "gso_external.csv": b""})))
    assert set(snapshot.failed) == {"metr-p50-horizon", "metr-p80-horizon", "gso"}
    assert snapshot.failed["metr-p50-horizon"].startswith(
        "metr_time_horizons_external.csv: unreadable: 'utf-8' codec can't decode")
    assert snapshot.failed["gso"] == "gso_external.csv: empty, without a header row"
    assert len(of(snapshot, "hle")) == 47


def test_when_every_member_fails_the_zip_is_refused() -> None:
    with pytest.raises(PayloadError) as caught:
        epoch_zip.parse(rezip({"hle_external.csv": b"Model version,Release date\nm,2026\n",
                               "gso_external.csv": b""}))
    assert caught.value.reason == ("hle_external.csv: missing its value column 'Accuracy' "
                                   "(and 1 more failing members)")


def test_blank_values_are_counted_and_bad_ones_rejected() -> None:
    data = (b"Model version,Score,Release date,Date added,Organization,id\n"
            b"a,0.5,2026-01-01,,X,r1\nb,,2026-01-01,,X,r2\nc,n/a,2026-01-01,,X,r3\n"
            b"d,1.5,2026-01-01,,X,r4\ne,0.25,2026-01-01,soon,X,r5\n")
    snapshot = epoch_zip.parse(rezip({"arc_agi_2_external.csv": data}))
    assert {o.key: (o.value, o.result_date) for o in snapshot.observations} == {
        "r1": (50.0, "2026-01-01"), "r5": (25.0, None)}  # 'soon' does not fall through
    assert snapshot.blank == {"arc-agi-2": 1}
    assert [(r.key, r.reason) for r in snapshot.rejections] == [
        ("r3", "Score is not a number: 'n/a'"),
        ("r4", "Score 1.5 is not a fraction from 0 to 1")]


def test_rows_without_a_key_are_skipped_and_said_and_twice_the_same_go_on() -> None:
    data = (b"Model version,Score,Release date,id\n"
            b"a,0.5,2026-01-01,r1\nb,0.6,2026-01-01,\nc,0.7,2026-01-01,r1\n")
    snapshot = epoch_zip.parse(rezip({"arc_agi_2_external.csv": data}))
    # Both r1 rows reach the store, which refuses to pick one (tests/test_hub_claims.py).
    assert [o.key for o in snapshot.observations] == ["r1", "r1"]
    assert [(s.benchmark, s.reason) for s in snapshot.skipped] == [
        ("arc-agi-2", "arc_agi_2_external.csv line 3: no key, skipped")]


# -- members the table does not know --------------------------------------------------------

NEW = (b"Model version,Pass rate,Release date,Organization,id\n"
       b"m1,0.42,2026-03-01,Lab,n1\nm2,0.5,2026-03-02,,n2\n")


def test_an_unknown_member_is_listed_not_read(hub: Path) -> None:
    entries = dict(members(body(hub)), **{"new_bench_external.csv": NEW})
    snapshot = epoch_zip.parse(rezip(entries))
    assert snapshot.unknown == ["new_bench_external.csv"] and snapshot.failed == {}
    assert "new-bench" not in {o.benchmark for o in snapshot.observations}


def test_a_mapped_member_is_read_with_its_unit_and_scale(hub: Path) -> None:
    options = {"members": {"new_bench_external.csv": {"unit": "%", "scale": 100}}}
    entries = dict(members(body(hub)), **{"new_bench_external.csv": NEW})
    snapshot = epoch_zip.parse(rezip(entries), options=options)
    assert snapshot.unknown == []
    new = of(snapshot, "new-bench")
    assert {k: (o.value, o.result_date, o.attributes) for k, o in new.items()} == {
        "n1": (42.0, "2026-03-01", {"org": "Lab"}), "n2": (50.0, "2026-03-02", {})}
    yielded = epoch_zip.SOURCE_KIND.benchmarks(options)["new-bench"]
    assert (yielded.unit, dict(yielded.attributes)) == ("%", {"org": str})
    # A known member can be re-mapped: ECI in hundredths of a point, say.
    remapped = epoch_zip.parse(body(hub), options={
        "members": {"epoch_capabilities_index.csv": {"unit": "pts", "scale": 0.01}}})
    assert round(max(o.value for o in of(remapped, "eci").values()), 6) == 1.586686


@pytest.mark.parametrize("options, reason", [
    ({"member": {}}, "member: unknown option of epoch-zip; known: members"),
    ({"members": []}, "members: must be a table"),
    ({"members": {"x": {"unit": "%"}}}, "members.'x': a member is named by its file name"),
    ({"members": {"x.csv": "pct"}}, "members.'x.csv': must be a table with unit and scale"),
    ({"members": {"x.csv": {"unit": "percent"}}},
     "members.'x.csv'.unit: unknown unit 'percent'; known: %, min, pts"),
    ({"members": {"x.csv": {}}}, "members.'x.csv'.unit: missing; one of %, min, pts"),
    ({"members": {"x.csv": {"unit": "%", "scale": 0}}},
     "members.'x.csv'.scale: must be a positive number (raw x scale), not 0"),
    ({"members": {"x.csv": {"unit": "%", "range": 1}}},
     "members.'x.csv'.range: unknown; a member takes unit and scale"),
    ({"members": {"X Y.csv": {"unit": "%"}}},
     "members.'X Y.csv': 'x y' is not a benchmark id"),
])
def test_member_options_that_are_wrong(options: dict[str, object], reason: str) -> None:
    with pytest.raises(OptionsError) as caught:
        epoch_zip.SOURCE_KIND.check(options)
    assert str(caught.value).startswith(reason) and "\n" not in str(caught.value)
    with pytest.raises(PayloadError, match=r"^members?"):
        epoch_zip.parse(rezip({"hle_external.csv": NEW}), options=options)
