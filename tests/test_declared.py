"""Declared leaderboards (kinds csv and json) on payloads written here, and the catalog's
answers: what each source yields, primary sources, units."""

from __future__ import annotations

import json
from typing import Any

import pytest

import sources
from sources import declared
from sources.base import OptionsError, PayloadError, Snapshot

ARC = {
    "rows": "[?datasetId=='v2_Semi_Private']", "benchmark": "arc-agi-2-semi-private",
    "unit": "%", "scale": 100, "value": "score", "date": "modelReleaseDate", "key": "modelId",
    "subject": "modelDisplayName", "attributes": {"org": "provider"},
}
EVALUATIONS = [
    {"datasetId": "v2_Semi_Private", "modelId": "o3-high", "modelDisplayName": "o3 (high)",
     "score": 0.065, "modelReleaseDate": "2025-04-16", "provider": "OpenAI"},
    {"datasetId": "v2_Public_Eval", "modelId": "o3-high", "modelDisplayName": "o3 (high)",
     "score": 0.09, "modelReleaseDate": "2025-04-16", "provider": "OpenAI"},
    {"datasetId": "v2_Semi_Private", "modelId": "grok-4", "modelDisplayName": "Grok 4",
     "score": "0.16", "modelReleaseDate": "2025-07-09T20:00:00-07:00"},
    {"datasetId": "v2_Semi_Private", "modelId": "human", "modelDisplayName": "Human panel",
     "score": 1.0},
]


def parse(kind: str, body: bytes, options: dict[str, Any]) -> Snapshot:
    return sources.kind(kind).parse(body, {}, options=options)


def refused(kind: str, body: bytes, options: dict[str, Any]) -> str:
    with pytest.raises(PayloadError) as caught:
        parse(kind, body, options)
    assert "\n" not in caught.value.reason
    return caught.value.reason


def mistake(kind: str, options: dict[str, Any]) -> str:
    with pytest.raises(OptionsError) as caught:
        sources.kind(kind).check(options)
    assert "\n" not in str(caught.value)
    return str(caught.value)


# -- json ----------------------------------------------------------------------------------

def test_json_rows_selected_by_jmespath_scaled_with_attributes() -> None:
    snapshot = parse("json", json.dumps(EVALUATIONS).encode(), ARC)
    assert [(o.key, o.subject, o.value, o.result_date, o.attributes)
            for o in snapshot.observations] == [
        ("o3-high", "o3 (high)", 6.5, "2025-04-16", {"org": "OpenAI"}),
        ("grok-4", "Grok 4", 16.0, "2025-07-10", {}),  # a time with an offset, in UTC
        ("human", "Human panel", 100.0, None, {}),  # no date: undated; no provider: unknown
    ]
    assert snapshot.rejections == snapshot.skipped == [] and snapshot.failed == {}


def test_json_without_rows_takes_the_document_and_numbers_rows_by_subject() -> None:
    rows = [{"model": "a", "minutes": 30, "on": "2025-01-02"},
            {"model": "a", "minutes": 45, "on": "2025-02-03", "lab": True},
            {"model": "b", "minutes": None}, "not a row", {"minutes": 5}]
    options = {"benchmark": "horizon", "unit": "min", "value": "minutes", "date": "on",
               "subject": "model", "attributes": {"open": "lab"}}
    snapshot = parse("json", json.dumps(rows).encode(), options)
    assert [(o.key, o.value, o.attributes) for o in snapshot.observations] == [
        ("a #1", 30.0, {}), ("a #2", 45.0, {"open": "true"})]  # attributes are text
    assert [(r.key, r.reason) for r in snapshot.rejections] == [("b #1", "no value in 'minutes'")]
    assert [s.reason for s in snapshot.skipped] == [
        "row 4: not an object, skipped", "row 5: no subject in 'model', skipped"]


def test_json_values_pass_the_same_checks() -> None:
    body = (b'[{"id": "a", "v": 101}, {"id": "b", "v": "NaN"}, {"id": "c", "v": "n/a"},'
            b' {"id": "d", "v": 1e400}, {"id": "e", "v": 99, "d": null}, {"id": "e", "v": 98}]')
    options = {"benchmark": "x", "unit": "%", "value": "v", "date": "d", "key": "id"}
    snapshot = parse("json", body, options)
    assert {r.key: r.reason for r in snapshot.rejections} == {
        "a": "value 101 is outside the range of percent (0 to 100)",
        "b": "value 'v' is not a finite number: 'NaN'",
        "c": "value 'v' is not a number: 'n/a'",
        "d": "value 'v' is not a finite number: inf",
    }
    # A key given twice reaches the store as two rows, which refuses to pick one of them.
    assert [(o.key, o.value, o.result_date) for o in snapshot.observations] == [
        ("e", 99.0, None), ("e", 98.0, None)]
    assert snapshot.skipped == []


def test_points_take_any_finite_number() -> None:
    rows = [{"m": "a", "elo": 1556.29, "d": "2026-01-01"}, {"m": "b", "elo": -12, "d": ""}]
    options = {"benchmark": "arena", "unit": "pts", "value": "elo", "date": "d", "subject": "m"}
    snapshot = parse("json", json.dumps(rows).encode(), options)
    assert [(o.key, o.value, o.result_date) for o in snapshot.observations] == [
        ("a #1", 1556.29, "2026-01-01"), ("b #1", -12.0, None)]


@pytest.mark.parametrize("body, options, reason", [
    (b"{", ARC, "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 "
     "(char 1)"),
    (json.dumps({"a": 1}).encode(), ARC,
     "rows \"[?datasetId=='v2_Semi_Private']\" yields null, not a list"),
    (json.dumps({"rows": [1]}).encode(), dict(ARC, rows="rows[0]"),
     "rows 'rows[0]' yields a number, not a list"),
    (json.dumps({"a": 1}).encode(), {k: v for k, v in ARC.items() if k != "rows"},
     "the document is an object, not a list of rows (select them with rows)"),
    (json.dumps([]).encode(), {k: v for k, v in ARC.items() if k != "rows"}, "no rows"),
    (json.dumps(EVALUATIONS).encode(), dict(ARC, value="accuracy"),
     "value field 'accuracy' is in none of the 3 rows"),
    (json.dumps(EVALUATIONS).encode(), dict(ARC, date="released"),
     "date field 'released' is in none of the 3 rows"),
    (json.dumps(EVALUATIONS).encode(), dict(ARC, attributes={"org": "vendor"}),
     "attributes.org field 'vendor' is in none of the 3 rows"),
    (json.dumps(EVALUATIONS).encode(), dict(ARC, key="id"),
     "key field 'id' is in none of the 3 rows"),
])
def test_json_payloads_that_fail_the_fetch(body: bytes, options: dict[str, Any],
                                           reason: str) -> None:
    assert refused("json", body, options) == reason


# -- csv -----------------------------------------------------------------------------------

BOARD = (b"\xef\xbb\xbfRank,Model,Lab,Score,Evaluated\n"
         b"1,gpt-5,OpenAI,0.81,2026-01-05\n"
         b'2,"claude\nopus",Anthropic,0.79,\n'
         b"3,gpt-5,OpenAI,,2026-01-07\n"
         b"4,gemini,,0.7,someday\n")
BOARD_OPTIONS = {"benchmark": "my-board", "unit": "%", "scale": 100, "value": "Score",
                 "date": "Evaluated", "subject": "Model", "attributes": {"org": "Lab"}}


def test_csv_rows_with_subjects_numbered_and_a_scale() -> None:
    snapshot = parse("csv", BOARD, BOARD_OPTIONS)
    assert [(o.key, o.value, o.result_date, o.attributes) for o in snapshot.observations] == [
        ("gpt-5 #1", 81.0, "2026-01-05", {"org": "OpenAI"}),
        ("claude\nopus #1", 79.0, None, {"org": "Anthropic"}),
        ("gemini #1", 70.0, None, {}),  # 'someday' is no date; a blank Lab is unknown
    ]
    assert [(r.key, r.reason) for r in snapshot.rejections] == [("gpt-5 #2", "no value in 'Score'")]


def test_csv_with_a_key_column() -> None:
    snapshot = parse("csv", BOARD, dict(BOARD_OPTIONS, key="Rank"))
    assert [o.key for o in snapshot.observations] == ["1", "2", "4"]
    assert [o.subject for o in snapshot.observations] == ["gpt-5", "claude\nopus", "gemini"]


@pytest.mark.parametrize("body, options, reason", [
    (BOARD, dict(BOARD_OPTIONS, value="score"), "value column 'score' is not in the header"),
    (BOARD, dict(BOARD_OPTIONS, date="Date"), "date column 'Date' is not in the header"),
    (BOARD, dict(BOARD_OPTIONS, key="id"), "key column 'id' is not in the header"),
    (BOARD, dict(BOARD_OPTIONS, subject="Name"), "subject column 'Name' is not in the header"),
    (BOARD, dict(BOARD_OPTIONS, attributes={"org": "Org"}),
     "attributes.org column 'Org' is not in the header"),
    (b"", BOARD_OPTIONS, "empty: no header row"),
    (b"Model,Score,Evaluated,Lab\n", BOARD_OPTIONS, "no rows under the header"),
    (b"Model,Score,Evaluated,Lab\n\xff,1,2,3\n", BOARD_OPTIONS,
     "not UTF-8 text: 'utf-8' codec can't decode byte 0xff in position 26: invalid start byte"),
    (b"Model,Score,Evaluated,Lab\nm,0.5,2026-01-01,x\n", {"benchmark": "b"},
     "the source's mapping is wrong: unit: missing; one of %, min, pts"),
])
def test_csv_payloads_that_fail_the_fetch(body: bytes, options: dict[str, Any],
                                          reason: str) -> None:
    assert refused("csv", body, options) == reason


# -- mapping mistakes (found at start) -----------------------------------------------------

@pytest.mark.parametrize("kind, options, reason", [
    ("json", dict(ARC, unit="percent"), "unit: unknown unit 'percent'; known: %, min, pts"),
    ("json", {k: v for k, v in ARC.items() if k != "unit"}, "unit: missing; one of %, min, pts"),
    ("json", {k: v for k, v in ARC.items() if k != "value"},
     "value: missing: the field that holds the value"),
    ("json", {k: v for k, v in ARC.items() if k != "date"},
     "date: missing: the field that holds the result's date"),
    ("json", {k: v for k, v in ARC.items() if k != "benchmark"},
     "benchmark: missing: the id of the benchmark this source yields"),
    ("json", dict(ARC, benchmark="ARC 2"),
     "benchmark: 'ARC 2' is not a benchmark id (lowercase letters and digits, joined by '-')"),
    ("json", dict(ARC, rows="[?datasetId=="),
     "rows: '[?datasetId==' does not compile: Invalid jmespath expression: Incomplete "
     "expression at character 13"),
    ("csv", dict(BOARD_OPTIONS, rows="[*]"), "rows: only a json source selects rows (JMESPath)"),
    ("json", dict(ARC, attributes={"Org Name": "provider"}),
     "attributes.Org Name: 'Org Name' is not a claim word (lowercase letters and digits, "
     "joined by '-')"),
    ("json", dict(ARC, attributes={"source": "provider"}),
     "attributes.source: 'source' is a word of the claim language; choose another name"),
    ("json", dict(ARC, attributes={"org": 3}), "attributes.org: must name a field, not 3"),
    ("json", dict(ARC, attributes=["org"]),
     "attributes: must be a table of attribute = field, such as { org = \"provider\" }"),
    ("json", dict(ARC, scale=-1), "scale: must be a positive number (raw x scale), not -1"),
    ("json", dict(ARC, value=""), "value: must name a field or column, not ''"),
    ("json", {k: v for k, v in ARC.items() if k not in ("key", "subject")},
     "subject: missing: the field that names the row's model (or give a key)"),
    ("csv", dict(BOARD_OPTIONS, colour="red"),
     "colour: unknown option of a csv source; known: benchmark, unit, scale, value, date, key, "
     "subject, attributes"),
])
def test_mapping_mistakes(kind: str, options: dict[str, Any], reason: str) -> None:
    assert mistake(kind, options) == reason


def test_the_catalog_names_the_source_of_a_mistake() -> None:
    with pytest.raises(OptionsError) as caught:
        sources.catalog({"arc-prize": ("json", dict(ARC, unit="percent"))})
    assert str(caught.value) == ("sources.arc-prize.unit: unknown unit 'percent'; known: %, "
                                 "min, pts")


def test_a_declared_kind_yields_its_benchmark() -> None:
    yielded = declared.JSON.benchmarks(ARC)
    assert list(yielded) == ["arc-agi-2-semi-private"]
    benchmark = yielded["arc-agi-2-semi-private"]
    assert (benchmark.unit, dict(benchmark.attributes)) == ("%", {"org": str})
    assert declared.CSV.benchmarks({}) == {}  # nothing until the mapping is right


# -- the catalog ---------------------------------------------------------------------------

def test_primary_sources_and_units_of_the_built_in_sources() -> None:
    catalog = sources.builtin_catalog()
    assert catalog.primary("swe-bench-verified") == "swe-bench"
    assert catalog.primary("swe-bench-bash-only") == "swe-bench"
    assert catalog.primary("osworld") == "epoch-hub"
    assert catalog.primary("osworld-verified") == "osworld-verified"
    assert catalog.primary("hle") == "epoch-hub"
    assert catalog.primary("metr-p50-horizon") == "metr"
    assert catalog.primary("no-such-benchmark") is None
    assert (catalog.unit("eci"), catalog.unit("webdev-arena"), catalog.unit("hle"),
            catalog.unit("metr-p80-horizon")) == ("pts", "pts", "%", "min")
    assert catalog.yielding("swe-bench-verified") == ("swe-bench", "epoch-hub")
    assert catalog.yielding("metr-p50-horizon") == ("metr", "metr-1-0", "epoch-hub")
    assert catalog.ids()[0] == "swe-bench-verified" and "eci" in catalog.ids()
    assert dict(catalog.benchmarks("swe-bench")["swe-bench-verified"].attributes) == {
        "checked": bool, "pass@1": bool, "open-weights": bool, "open-source": bool, "org": str}
    assert set(catalog.benchmarks("osworld-verified")) == {"osworld-verified"}
    assert dict(catalog.benchmark("terminal-bench").attributes) == {  # type: ignore[union-attr]
        "agent": str, "org": str}
    assert hash(catalog) == hash(sources.catalog())


def test_declared_sources_in_the_catalog() -> None:
    hle_mirror = {"benchmark": "hle", "unit": "%", "value": "v", "date": "d", "subject": "m"}
    catalog = sources.catalog({
        "arc-prize": ("json", ARC),
        "hle-mirror": ("csv", hle_mirror),
        "epoch-hub": ("epoch-zip", {"members": {"x_external.csv": {"unit": "pts"}}}),
        "second-arc": ("json", ARC),
    })
    assert catalog.primary("arc-agi-2-semi-private") == "arc-prize"  # a new id: its source
    assert catalog.yielding("arc-agi-2-semi-private") == ("arc-prize", "second-arc")
    assert catalog.primary("hle") == "epoch-hub"  # a built-in id stays with the built-in
    assert "hle" in catalog.benchmarks("hle-mirror")  # read with source = hle-mirror
    assert catalog.primary("x") == "epoch-hub" and catalog.unit("x") == "pts"
    assert catalog.unit("arc-agi-2-semi-private") == "%"
    assert catalog.names()[:7] == tuple(s.name for s in sources.BUILTIN)


def test_a_declared_built_in_id_in_another_unit_is_a_mistake() -> None:
    with pytest.raises(OptionsError) as caught:
        sources.catalog({"hle-points": ("csv", {"benchmark": "hle", "unit": "pts", "value": "v",
                                                "date": "d", "subject": "m"})})
    assert str(caught.value) == ("sources.hle-points.unit: hle is measured in % (as epoch-hub "
                                 "yields it), not pts")


def test_unknown_kinds_list_the_known_ones() -> None:
    with pytest.raises(sources.UnknownKind) as caught:
        sources.kind("xml")
    assert str(caught.value) == (
        "unknown source kind 'xml'; known kinds: swe-bench-leaderboards, osworld-xlsx, "
        "metr-yaml, epoch-zip, rss, csv, json")
    with pytest.raises(OptionsError, match="the metr-yaml kind takes no options"):
        sources.catalog({"metr": ("metr-yaml", {"members": {}})})


def test_the_builtin_sources_as_shipped() -> None:
    shipped = sources.builtin_catalog()
    assert shipped.primary("osworld") == "epoch-hub"
    assert (shipped.unit("hle"), shipped.unit("eci")) == ("%", "pts")
    assert shipped.ids()[0] == "swe-bench-verified"
    assert dict(shipped.benchmark("hle").attributes) == {"org": str}  # type: ignore[union-attr]
    assert [s.name for s in sources.BUILTIN][-1] == "epoch-hub"
    assert "hle" in sources.builtin("epoch-hub").benchmarks  # type: ignore[union-attr]
