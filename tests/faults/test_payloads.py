"""Hostile payloads (issue 9): every kind's parse gives a Snapshot (perhaps with rejections) or
a PayloadError with a one-line reason, never another exception; values are finite, dates UTC
and from 1990 on, links http(s), and bombs are refused before they are inflated.

Payloads are generated here: JSON, YAML, RSS, zips, and xlsx edited from a real fixture."""

from __future__ import annotations

import contextlib
import io
import json
import math
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources import epoch_zip, metr_yaml, osworld_xlsx, rss, swe_bench
from sources.base import PayloadError, Snapshot, result_date, safe_link
from tests.conftest import Cli, fixtures_dir

MB = 1024 * 1024
KINDS = (swe_bench, metr_yaml, osworld_xlsx, epoch_zip, rss)


# -- helpers -----------------------------------------------------------------------------------

def refused(parse: Callable[..., Snapshot], body: bytes, **options: Any) -> str:
    """The one-line reason ``parse`` refuses ``body`` with."""
    with pytest.raises(PayloadError) as caught:
        parse(body, **options)
    reason = caught.value.reason
    assert reason and "\n" not in reason and len(reason) < 400, reason
    return reason


def peak(action: Callable[[], object]) -> int:
    """Peak bytes Python allocates while ``action`` runs."""
    tracemalloc.start()
    try:
        with contextlib.suppress(PayloadError):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def swe(rows: list[Any]) -> bytes:
    return json.dumps({"leaderboards": [{"name": "Verified", "results": rows}]}).encode()


def swe_row(folder: str, resolved: Any, date: Any = "2025-01-01") -> dict[str, Any]:
    return {"folder": folder, "name": folder, "resolved": resolved, "date": date}


def metr(estimates: dict[str, str], release: str = "2025-01-01") -> bytes:
    lines = ["results:"]
    for model, estimate in estimates.items():
        lines += [f"  {model}:", f"    release_date: {release}", "    metrics:",
                  f"      p50_horizon_length: {{estimate: {estimate}, ci_low: .inf, "
                  "ci_high: .nan}"]
    return ("\n".join(lines) + "\n").encode()


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def streamed_zip(name: str, chunks: Iterator[bytes]) -> bytes:
    """A deflated member written chunk by chunk: a bomb never held whole in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(name, "w", force_zip64=True) as member:
        for chunk in chunks:
            member.write(chunk)
    return buffer.getvalue()


def lie_about_sizes(body: bytes, size: int) -> bytes:
    """The zip with every member's declared uncompressed size set to ``size`` (central
    directory and local headers)."""
    data = bytearray(body)
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            struct.pack_into("<I", data, start + offset, size)
            start += 4
    return bytes(data)


EPOCH_HEADER = b"Model version,Time horizon,Release date,CI_low,CI_high,id\n"


def epoch(rows: bytes, header: bytes = EPOCH_HEADER) -> bytes:
    return zipped({"metr_time_horizons_external.csv": header + rows})


def osworld_fixture(name: str = "self_reported_results.2026-04-06.xlsx") -> bytes:
    return (fixtures_dir() / "osworld" / name).read_bytes()


def edit_sheet(body: bytes, edit: Callable[[bytes], bytes],
               member: str = "xl/worksheets/sheet1.xml") -> bytes:
    source = zipfile.ZipFile(io.BytesIO(body))
    return zipped({info.filename: edit(source.read(info)) if info.filename == member
                   else source.read(info) for info in source.infolist()})


def feed(items: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>t</title>'
            f"{items}</channel></rss>").encode()


# -- 1. every value finite, ranges -------------------------------------------------------------

@pytest.mark.parametrize("raw", [1e400, math.nan, "Infinity", "-inf", "nan", "1e400", 10**400])
def test_swe_bench_non_finite_resolved_is_rejected(raw: Any) -> None:
    body = swe([swe_row("bad", raw), swe_row("good", 50)]).replace(b"NaN", b"NaN")
    snapshot = swe_bench.parse(body)
    [rejected] = snapshot.rejections
    assert rejected.key == "Verified/bad" and "not a finite number" in rejected.reason
    assert [o.key for o in snapshot.observations] == ["Verified/good"]


def test_metr_non_finite_estimates_are_rejected_and_ci_dropped() -> None:
    snapshot = metr_yaml.parse(metr({"a": ".inf", "b": "1e400", "c": '"Infinity"', "d": ".nan",
                                     "e": "0", "f": "1000001", "g": "1000000", "h": "90.5"}))
    reasons = {r.key: r.reason for r in snapshot.rejections}
    assert reasons == {
        "a": "estimate is not a finite number: inf",
        "b": "estimate is not a finite number: '1e400'",
        "c": "estimate is not a finite number: 'Infinity'",
        "d": "estimate is not a finite number: nan",
        "e": "value 0 is outside the range of minutes (above 0, at most 1000000)",
        "f": "value 1e+06 is outside the range of minutes (above 0, at most 1000000)",
    }
    kept = {o.key: (o.value, o.ci_low, o.ci_high) for o in snapshot.observations}
    assert kept == {"g": (1e6, None, None), "h": (90.5, None, None)}  # ci .inf/.nan dropped


def test_epoch_non_finite_time_horizons_are_rejected() -> None:
    snapshot = epoch_zip.parse(epoch(b"a,inf,2025-01-01,1,2,r1\nb,nan,2025-01-01,1,2,r2\n"
                                     b"c,1e400,2025-01-01,1,2,r3\nd,0,2025-01-01,1,2,r4\n"
                                     b"e,90,2025-01-01,-inf,inf,r5\n"))
    assert [(r.key, r.reason.split(":")[0]) for r in snapshot.rejections] == [
        ("r1", "Time horizon is not a finite number"),
        ("r2", "Time horizon is not a finite number"),
        ("r3", "Time horizon is not a finite number"),
        ("r4", "value 0 is outside the range of minutes (above 0, at most 1000000)")]
    [kept] = snapshot.observations
    assert (kept.key, kept.value, kept.ci_low, kept.ci_high) == ("r5", 90.0, None, None)


def test_osworld_non_finite_score_is_rejected() -> None:
    def infinite_score(xml: bytes) -> bytes:
        return xml.replace(b'<c r="G2"><v>66.2</v></c>', b'<c r="G2" t="str"><v>inf</v></c>')

    snapshot = osworld_xlsx.parse(edit_sheet(osworld_fixture(), infinite_score))
    [rejected] = snapshot.rejections
    assert (rejected.key, rejected.reason) == ("screenshot/AskUI VisionAgent",
                                               "Score is not a finite number: 'inf'")


# -- 2. result dates: UTC, from 1990 on --------------------------------------------------------

@pytest.mark.parametrize("raw, date", [
    ("2025-07-31T23:30:00-05:00", "2025-08-01"),
    ("2025-07-31T23:30-05:00", "2025-08-01"),
    ("2025-08-01T00:30:00+02:00", "2025-07-31"),
    ("2025-07-31T23:30:00", "2025-07-31"),  # naive: UTC
    ("2025-10-30T10:54:58.088Z", "2025-10-30"),
    ("2025-07-31", "2025-07-31"),
    ("1989-12-31", None),
    ("1990-01-01", "1990-01-01"),
    ("2025-07-31T99:00", None),  # a broken time: its date cannot be trusted
    ("9999-12-31T23:00-05:00", None),  # overflows when made UTC
    ("2025-13-45", None),
    ("x" * 10_000, None),
])
def test_result_date(raw: str, date: str | None) -> None:
    assert result_date(raw) == date


def test_swe_bench_offset_date_is_taken_in_utc() -> None:
    snapshot = swe_bench.parse(swe([swe_row("late", 50, "2025-07-31T23:30:00-05:00"),
                                    swe_row("old", 50, "1985-01-01")]))
    assert {o.key: o.result_date for o in snapshot.observations} == {
        "Verified/late": "2025-08-01", "Verified/old": None}


def test_metr_release_datetimes_and_old_dates() -> None:
    body = (b"results:\n"
            b"  a: {release_date: 2025-07-31T23:30:00-05:00, metrics: {p50_horizon_length: "
            b"{estimate: 5}}}\n"
            b"  b: {release_date: 1970-01-01, metrics: {p50_horizon_length: {estimate: 5}}}\n"
            b"  c: {release_date: '2025-07-31T23:30-05:00', metrics: {p50_horizon_length: "
            b"{estimate: 5}}}\n")
    snapshot = metr_yaml.parse(body)
    assert {o.key: o.result_date for o in snapshot.observations} == {
        "a": "2025-08-01", "b": None, "c": "2025-08-01"}


def test_metr_impossible_date_is_a_payload_error() -> None:
    body = b"results:\n  a: {release_date: 2025-13-45, metrics: {}}\n"
    assert refused(metr_yaml.parse, body).startswith("not YAML: a value cannot be read")


def test_rss_published_dates() -> None:
    body = feed('<item><title>a</title><link>https://x.org/a</link>'
                '<pubDate>Thu, 31 Jul 2025 23:30:00 -0500</pubDate></item>'
                '<item><title>b</title><link>https://x.org/b</link>'
                '<pubDate>Mon, 01 Jan 1985 00:00:00 +0000</pubDate></item>')
    assert [r.published for r in rss.parse(body).reports] == ["2025-08-01", None]


# -- 3. no payload shape crashes a parser ------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"leaderboards":[{"name":"Verified","results":5}]}',
    b'{"leaderboards":[{"name":["Verified"],"results":[]}, {"name":"Lite","results":"abc"}]}',
    b'{"leaderboards":[{"name":"Verified","results":[5, null, [], {"folder": 7}]}]}',
    b'{"leaderboards":[{"name":"Verified","results":[{"folder":"a","resolved":1,'
    b'"tags":5,"name":{"x":1},"date":[1]}]}]}',
    b'{"leaderboards": null}',
    b"[1, 2, 3]",
    b'{"leaderboards":[{"name":"Verified","results":[{"folder":"a","resolved":1' + b"0" * 5000
    + b"}]}]}",
])
def test_swe_bench_odd_shapes(body: bytes) -> None:
    try:
        snapshot = swe_bench.parse(body)
    except PayloadError as error:
        assert "\n" not in error.reason
    else:
        assert all(isinstance(o.subject, str) for o in snapshot.observations)


def test_swe_bench_deep_nesting_is_a_payload_error() -> None:
    body = b'{"leaderboards":' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert refused(swe_bench.parse, body) == "not JSON: nested too deeply"


def test_swe_bench_page_of_unclosed_script_tags_is_linear() -> None:
    began = time.perf_counter()
    reason = refused(swe_bench.parse, b"<html>" + b"<script " * 200_000)
    assert reason == "HTML page without a leaderboard-data script element"
    assert time.perf_counter() - began < 2


def test_metr_odd_shapes() -> None:
    body = (b"benchmark_name: [1]\nresults:\n  2025-01-01: {metrics: {p50_horizon_length: "
            b"{estimate: 5}}, scaffolds: 5, benchmark_name: {a: 1}}\n"
            b"  7: {agents: {1: 2, 2: [3]}, release_date: [1]}\n"
            b"  ~: {metrics: [1, 2]}\n"
            b"  m: {metrics: {p50_horizon_length: {estimate: 5}}, scaffolds: [[[1]], x]}\n"
            b"  n: !!binary aGVsbG8=\n")
    snapshot = metr_yaml.parse(body)
    assert {(o.key, o.attributes.get("scaffold")) for o in snapshot.observations} == {
        ("2025-01-01", None), ("m", "x")}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.KIND)
@pytest.mark.parametrize("body", [b"", b"\x00" * 100, bytes(range(256)) * 4,
                                  b"PK\x03\x04" + b"\xff" * 200, b"\xef\xbb\xbf<"])
def test_binary_garbage(kind: Any, body: bytes) -> None:
    refused(kind.parse, body)


def test_truncated_archives() -> None:
    xlsx = osworld_fixture()
    for cut in (len(xlsx) // 3, len(xlsx) - 30):
        assert refused(osworld_xlsx.parse, xlsx[:cut]).startswith("not an xlsx workbook")
    good = epoch(b"a,5,2025-01-01,1,9,r1\n")
    assert refused(epoch_zip.parse, good[:-40]).startswith("not a zip archive")


def test_epoch_nul_bytes_and_a_huge_field() -> None:
    snapshot = epoch_zip.parse(epoch(b"a\x00b,5,2025-01-01,1,9,r1\n"))
    assert [o.subject for o in snapshot.observations] == ["a\x00b"]
    huge = epoch(b'"' + b"x" * (10 * MB) + b'",5,2025-01-01,1,9,r1\n')
    assert "field larger than field limit" in refused(epoch_zip.parse, huge)


def test_epoch_wide_header_over_short_rows_is_fast() -> None:
    header = b"," * 200_000 + EPOCH_HEADER
    began = time.perf_counter()
    # Short rows have no value (a blank is not a result): nothing, and quickly.
    reason = refused(epoch_zip.parse, epoch(b"x\n" * 100_000 + b"\n" * 100_000, header=header))
    assert reason.startswith("no rows in any of") and time.perf_counter() - began < 5


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from(["Verified", "Lite", "folder", "resolved", "2025-07-31T23:30-05:00",
                       "results", "Infinity", "tags", "System: Attempts - 1"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["leaderboards", "name", "results", "folder",
                                       "resolved", "date", "tags", "checked", "os_model"])
                      | st.text(max_size=4), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_property_swe_bench_any_json(value: Any) -> None:
    body = json.dumps({"leaderboards": value} if isinstance(value, list) else value).encode()
    try:
        snapshot = swe_bench.parse(body)
    except PayloadError as error:
        assert "\n" not in error.reason
        return
    for observation in snapshot.observations:
        assert math.isfinite(observation.value) and 0 <= observation.value <= 100
        assert observation.result_date is None or observation.result_date >= "1990"


YAML_SCALARS = st.sampled_from([
    "~", "null", ".inf", "-.inf", ".nan", "1e400", "'Infinity'", "0", "5", "1000001", "2025-01-01",
    "2025-07-31T23:30:00-05:00", "1969-01-01", "[]", "{}", "'x'", "true", "!!binary aGVsbG8=",
    "results", "metrics", "agents", "p50_horizon_length", "estimate", "release_date",
    "scaffolds", "benchmark_name", "METR-Horizon-v1.1", "2025-13-45", "0x1F", "1" * 5000,
])


def yaml_flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(yaml_flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_flow(v)}" for k, v in value.items()) + "}"
    return str(value)


YAML_VALUES = st.recursive(
    YAML_SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["results", "metrics", "agents", "p50_horizon_length",
                                       "p80_horizon_length", "estimate", "ci_low", "ci_high",
                                       "release_date", "scaffolds", "benchmark_name", "m",
                                       "7", "~", "2025-01-01"]),
                      children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_VALUES)
def test_property_metr_any_yaml(value: Any) -> None:
    document = {"results": value} if isinstance(value, dict) else value
    try:
        snapshot = metr_yaml.parse(yaml_flow(document).encode())
    except PayloadError as error:
        assert "\n" not in error.reason
        return
    for observation in snapshot.observations:
        assert math.isfinite(observation.value) and 0 < observation.value <= 1e6
        for bound in (observation.ci_low, observation.ci_high):
            assert bound is None or math.isfinite(bound)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_property_rss_any_bytes(body: bytes) -> None:
    try:
        snapshot = rss.parse(b"<rss><channel><item><link>" + body
                             + b"</link></item></channel></rss>")
    except PayloadError as error:
        assert "\n" not in error.reason
        return
    assert all(r.link == "" or r.link.startswith(("http://", "https://"))
               for r in snapshot.reports)


# -- 4. bombs ----------------------------------------------------------------------------------

def test_epoch_zip_bomb_is_refused_before_inflating() -> None:
    bomb = streamed_zip("metr_time_horizons_external.csv",
                        (b"," * MB for _ in range(40)))  # 40 MB of commas in ~40 kB
    assert len(bomb) < 100_000
    reason = refused(epoch_zip.parse, bomb, max_bytes=8 * MB)
    assert reason.startswith("zip member 'metr_time_horizons_external.csv' declares")
    assert peak(lambda: epoch_zip.parse(bomb, max_bytes=8 * MB)) < 8 * 8 * MB


def test_epoch_zip_bomb_with_lying_sizes_stops_at_the_limit() -> None:
    rows = b"a,5,2025-01-01,1,9,r\n" * 50_000  # 1 MB
    bomb = lie_about_sizes(streamed_zip("metr_time_horizons_external.csv",
                                        (EPOCH_HEADER if i == 0 else rows for i in range(40))), 100)
    # zipfile yields no more than the declared 100 bytes, then finds the CRC wrong.
    reason = refused(epoch_zip.parse, bomb, max_bytes=8 * MB)
    assert reason == "'metr_time_horizons_external.csv': unreadable: Bad CRC-32 for file " \
        "'metr_time_horizons_external.csv'"
    assert peak(lambda: epoch_zip.parse(bomb, max_bytes=8 * MB)) < 8 * 8 * MB


def test_the_inflated_bytes_are_counted_whatever_the_declared_sizes() -> None:
    from sources.zips import ZipReader

    body = zipped({"a.csv": b"x" * 3000, "b.csv": b"y" * 3000})
    with ZipReader(body, max_bytes=10_000) as archive:
        archive.left = 4000  # as if the declared sizes had said less than is inflated
        assert archive.read(archive.members[0]) == b"x" * 3000
        with pytest.raises(PayloadError, match=r"'b\.csv' inflates past the 10000-byte limit"):
            archive.read(archive.members[1])


def test_epoch_members_together_over_the_limit() -> None:
    body = zipped({f"m{i}.csv": b"x" * MB for i in range(5)})
    assert refused(epoch_zip.parse, body, max_bytes=4 * MB) == (
        f"zip members declare {5 * MB} bytes in all, over the {4 * MB}-byte limit")


def test_a_body_over_max_bytes_is_refused_by_every_kind() -> None:
    for kind in KINDS:
        assert "over the 10-byte limit" in refused(kind.parse, b"x" * 11, max_bytes=10)


def test_xlsx_dimension_bomb_is_refused_without_aborting() -> None:
    # One cell at XFD1048576: calamine would allocate 512 GB for the dense grid and abort.
    def far_cell(xml: bytes) -> bytes:
        return xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c>'
                           b"</row></sheetData>")

    body = edit_sheet(osworld_fixture(), far_cell)
    reason = refused(osworld_xlsx.parse, body)
    assert reason.startswith("'xl/worksheets/sheet1.xml': a grid of up to 1048")
    # Written otherwise (single quotes, spaces, a namespace prefix): refused the same.
    odd = edit_sheet(osworld_fixture(), lambda xml: far_cell(xml).replace(
        b'<c r="XFD1048576">', b"<x:c  r = 'XFD1048576'>"))
    assert "a grid of up to" in refused(osworld_xlsx.parse, odd)


def test_xlsx_member_bomb_is_refused() -> None:
    source = zipfile.ZipFile(io.BytesIO(osworld_fixture()))
    members = {i.filename: source.read(i) for i in source.infolist()}
    members["xl/sharedStrings.xml"] += b" " * (20 * MB)
    body = zipped(members)
    assert len(body) < 200_000
    reason = refused(osworld_xlsx.parse, body, max_bytes=8 * MB)
    assert reason.startswith("zip member 'xl/sharedStrings.xml' declares")
    lying = lie_about_sizes(body, 1000)
    assert refused(osworld_xlsx.parse, lying, max_bytes=8 * MB)
    assert peak(lambda: osworld_xlsx.parse(lying, max_bytes=8 * MB)) < 8 * 8 * MB


def test_yaml_alias_bomb_is_refused_before_constructing() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    bomb = ("\n".join(lines) + "\nresults: {m: *i}\n").encode()
    began = time.perf_counter()
    assert refused(metr_yaml.parse, bomb) == "YAML anchors and aliases are refused (line 1)"
    assert time.perf_counter() - began < 1
    assert peak(lambda: metr_yaml.parse(bomb)) < 8 * len(bomb) + MB


def test_the_alias_check_costs_little_on_real_files() -> None:
    for path in sorted((fixtures_dir() / "metr").glob("benchmark_results*.yaml")):
        body = path.read_bytes()
        # With an '&' or '*' somewhere (here in a comment), every event is scanned.
        scanned = body + b"# & *\n"
        began = time.perf_counter()
        metr_yaml.parse(scanned)
        assert time.perf_counter() - began < 0.5
        assert metr_yaml.parse(scanned).observations == metr_yaml.parse(body).observations


def test_rss_entities_are_never_expanded() -> None:
    laughs = ('<!DOCTYPE rss [<!ENTITY a "' + "a" * 100 + '">'
              + "".join(f'<!ENTITY {b} "{("&" + a + ";") * 10}">'
                        for a, b in zip("abcdef", "bcdefg", strict=True)) + "]>")
    body = feed("<item><title>&g;</title><link>https://x.org/a</link></item>", laughs)
    used = peak(lambda: rss.parse(body))
    [report] = rss.parse(body).reports
    assert "aaaa" not in report.title and used < 20 * MB
    passwd = '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    body = feed("<item><title>T &xxe;</title><link>https://x.org/a</link></item>", passwd)
    [report] = rss.parse(body).reports
    assert "root:" not in report.title


def test_memory_of_a_payload_that_parses_stays_under_30x() -> None:
    rows = [swe_row(f"f{i}", 50) for i in range(5_000)]
    body = swe(rows)
    assert peak(lambda: swe_bench.parse(body)) < 30 * len(body)
    csv_rows = b"".join(b"m%d,5,2025-01-01,1,9,r%d\n" % (i, i) for i in range(20_000))
    zipped_csv = epoch(csv_rows)
    assert peak(lambda: epoch_zip.parse(zipped_csv)) < 30 * len(csv_rows)


# -- 5. links ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, kept", [
    ("https://metr.org/blog/x", "https://metr.org/blog/x"),
    (" HTTP://metr.org/x ", "HTTP://metr.org/x"),
    ("javascript:alert(1)", ""),
    (" JaVaScRiPt:alert(1)", ""),
    ("java\tscript:alert(1)", ""),
    ("data:text/html,<script>alert(1)</script>", ""),
    ("file:///etc/passwd", ""),
    ("https:alert(1)", ""),
    ("https://", ""),
    ("https://x.org/\x00", ""),
    ("//x.org/a", ""),
    ("https://[::1", "https://[::1"),  # odd, but http(s); canonical() must not crash on it
    (None, ""),
])
def test_safe_link(raw: Any, kept: str) -> None:
    assert safe_link(raw) == kept


def test_rss_links_other_than_http_are_dropped() -> None:
    body = feed('<item><title>js</title><link>javascript:alert(1)</link><guid>g1</guid></item>'
                '<item><title>data</title><link>data:text/html,hi</link></item>'
                '<item><title>ok</title><link>https://x.org/ok</link></item>'
                '<item><title>v6</title><link>https://[::1</link></item>')
    snapshot = rss.parse(body)
    assert [(r.title, r.link) for r in snapshot.reports] == [
        ("js", ""), ("ok", "https://x.org/ok"), ("v6", "https://[::1")]
    assert snapshot.notes == ["an item without an http(s) link or an id was skipped: 'data'"]


# -- through the real CLI ----------------------------------------------------------------------

@pytest.fixture
def registered(cli: Cli) -> list[dict[str, Any]]:
    cli("predict", "add", "metr-p50-horizon < 100000min by 2030", "--id", "p")
    return cli.events("p")


def assert_nothing_moved(cli: Cli, before: list[dict[str, Any]]) -> None:
    assert cli.events("p") == before
    listed = json.loads(cli("predict", "list", "--json").output,
                        parse_constant=lambda name: pytest.fail(f"{name} in predict list"))
    assert listed


def assert_one_line_failure(result: Any, words: str) -> None:
    """One line on stderr names the source and the failure; no traceback anywhere. (The
    poll's log line on stdout says it too.)"""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.split(": ", 1)[0] in ("metr", "epoch-hub", "swe-bench", "osworld-verified",
                                      "osworld-self-reported", "metr-feed"), line
    assert "unusable payload" in line and words in line, line


@pytest.mark.parametrize("name, body, words", [
    ("alias-bomb.yaml", b"a: &a [1, 2]\nresults: {m: *a}\n", "anchors and aliases"),
    ("deep.yaml", b"results: " + b"[" * 5000 + b"]" * 5000 + b"\n", "not YAML"),
    ("garbage.yaml", bytes(range(256)), "not YAML"),
    ("bad-date.yaml", b"results:\n  a: {release_date: 2025-02-30}\n", "not YAML"),
])
def test_cli_poll_refuses_hostile_metr_files(cli: Cli, registered: list[dict[str, Any]],
                                             tmp_path: Path, name: str, body: bytes,
                                             words: str) -> None:
    path = tmp_path / name
    path.write_bytes(body)
    result = cli("poll", "metr", "--from-file", str(path), "--at", "2026-02-01T00:00Z", expect=3)
    assert_one_line_failure(result, words)
    assert_nothing_moved(cli, registered)


def test_cli_poll_of_infinite_estimates_moves_nothing(cli: Cli, registered: list[dict[str, Any]],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "inf.yaml"
    path.write_bytes(metr({"a": ".inf", "b": "1e400", "c": '"Infinity"', "d": ".nan"}))
    result = cli("poll", "metr", "--from-file", str(path), "--at", "2026-02-01T00:00Z",
                 expect=None)
    assert "Traceback" not in result.output
    assert_nothing_moved(cli, registered)


def test_cli_poll_refuses_an_epoch_zip_bomb(cli: Cli, registered: list[dict[str, Any]],
                                            tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(streamed_zip("metr_time_horizons_external.csv",
                                  (b"," * MB for _ in range(70))))
    result = cli("poll", "epoch-hub", "--from-file", str(path), "--at", "2026-02-01T00:00Z",
                 expect=3)
    assert_one_line_failure(result, "over the 67108864-byte limit")
    assert_nothing_moved(cli, registered)
