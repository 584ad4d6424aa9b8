"""Hostile text from sources in every output format (DESIGN section 8), end to end through the
real command line: Markdown keeps it on its line, HTML and Atom escape it (Atom stays
well-formed XML), links from sources are kept only when http(s), JSON keeps the raw text."""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from resolver.render import markdown_text, web_link
from tests.conftest import ROOT, Cli
from tests.payloads import filler

FORGED = "evil\n# Injected heading\n- `p-late` open → resolved **yes**"
TAG = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
ODD = "cdata ]]> sep\u2028par\u2029nul\x00bell\x07esc\x1b del\x7f cr\rend"
NAMES = [FORGED, TAG, ODD]
DIGEST_HEADINGS = {"# resolver digest, 2025-06-02", "## Resolutions",
                   "## New state-of-the-art records", "## Deadlines in the next 30 days",
                   "## New reports", "## Source health", "## Awaiting judgment",
                   "## Reversions", "## Backfilled", "## Baselines frozen"}
SAMPLE_FEED = ROOT / "tests" / "data" / "metr-feed.xml"


def leaderboard(tmp_path: Path, name: str) -> str:
    rows = [*filler(5),
            {"name": name, "folder": "20250601_x", "resolved": 90.0, "date": "2025-06-01"},
            {"name": name, "folder": "20250601_bad", "resolved": f"12 {name}",
             "date": "2025-06-01"}]  # rejected: its reason quotes the cell
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"leaderboards": [{"name": "Verified", "results": rows}]}))
    return str(path)


@pytest.fixture(params=NAMES, ids=["forged-lines", "tags", "odd-characters"])
def hostile(request: pytest.FixtureRequest, cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """A claim crossed by a row whose model name is hostile (and the same name on a rejected
    row), rendered for the day of the poll in every format."""
    name: str = request.param
    cli("predict", "add", "swe-bench-verified >= 85% by 2025-07-31", "--id", "p")
    cli("predict", "add", "swe-bench-verified >= 99% by 2025-06-20", "--id", "p-late")
    cli("poll", "swe-bench", "--from-file", leaderboard(tmp_path, name),
        "--at", "2025-06-02T00:00Z")
    rendered: dict[str, Any] = {
        fmt: cli("digest", "--date", "2025-06-02", "--format", fmt, "--stdout").output
        for fmt in ("md", "html", "json")}
    rendered["name"] = name
    return rendered


def resolution_lines(markdown: str) -> list[str]:
    """Lines a reader takes for a change of status: ``- `ID` FROM → TO ...``."""
    return [line for line in markdown.splitlines() if re.match(r"- `[^`]+` \S* → \S", line)]


def test_markdown_keeps_a_hostile_name_on_its_line(hostile: dict[str, Any]) -> None:
    markdown, name = hostile["md"], hostile["name"]
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings and set(headings) <= DIGEST_HEADINGS, headings
    # The only resolution line is the real one: p became provisional, p-late did not move.
    [line] = resolution_lines(markdown)
    assert line.startswith("- `p` open → provisional **yes** at 2025-06-02T00:00:00Z: ")
    # The name is shown, escaped, on each line that quotes it: evidence, record, deadline,
    # and the rejected row with its reason.
    shown = markdown_text(name)
    quoting = [line for line in markdown.splitlines() if shown in line]
    assert len(quoting) >= 5, markdown
    assert all(line.startswith(("- ", "  - ")) for line in quoting)
    assert "<img" not in markdown.replace("\\<img", "")
    assert "<script" not in markdown.replace("\\<script", "")


def test_markdown_has_no_control_character_or_line_separator(hostile: dict[str, Any]) -> None:
    markdown = hostile["md"]
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\x85\u2028\u2029]", markdown)
    if hostile["name"] == ODD:
        assert "sep par nul bell esc  del  cr end" in markdown
    if hostile["name"] == FORGED:
        assert "evil # Injected heading - \\`p-late\\` open → resolved \\*\\*yes\\*\\*" in markdown


def test_html_escapes_a_hostile_name_and_has_no_script(hostile: dict[str, Any]) -> None:
    page, name = hostile["html"], hostile["name"]
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", page)
    if name == TAG:
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in page
    if name == ODD:
        assert "cdata ]]&gt; sep\u2028par\u2029nul\ufffdbell\ufffdesc\ufffd" in page


def test_json_keeps_the_raw_text(hostile: dict[str, Any]) -> None:
    content, name = json.loads(hostile["json"]), hostile["name"]
    [entry] = content["resolutions"]
    assert entry["evidence"]["subject"] == name
    assert [record["subject"] for record in content["records"]] == [name]
    [rejected] = [item for source in content["sources"] for item in source["rejected"]]
    assert rejected["subject"] == name


def test_written_files_and_the_atom_feed(cli: Cli, hostile: dict[str, Any],
                                         state_dir: Path) -> None:
    cli("digest", "--date", "2025-06-02")
    folder = state_dir / "digests"
    assert (folder / "2025-06-02.md").read_bytes().decode() == hostile["md"]
    assert (folder / "2025-06-02.html").read_bytes().decode() == hostile["html"]
    assert json.loads((folder / "2025-06-02.json").read_text(encoding="utf-8")) == \
        json.loads(hostile["json"])
    feed = ET.fromstring((folder / "feed.atom").read_bytes())  # well-formed XML 1.0
    atom = "{http://www.w3.org/2005/Atom}"
    [entry] = feed.findall(f"{atom}entry")
    assert entry.findtext(f"{atom}summary") == "1 became provisional, 1 new record"
    content = entry.findtext(f"{atom}content") or ""
    # The page itself, once unescaped (XML reads a carriage return as a line feed).
    assert content == re.sub(r"\r\n?", "\n", hostile["html"])
    assert "<script" not in content.lower() and "<img" not in content.lower()


def feed_with(items: str) -> bytes:
    sample = SAMPLE_FEED.read_bytes()
    return sample.replace(b"<channel>", b"<channel>" + items.encode(), 1)


HOSTILE_ITEMS = """
    <item>
      <title>Script link
# Injected heading
- `p` open → resolved **yes**</title>
      <link>javascript:alert(1)</link>
      <guid>hostile-1</guid>
      <pubDate>Mon, 02 Jun 2025 10:00:00 +0000</pubDate>
    </item>
    <item>
      <title>Data link &lt;b&gt;</title>
      <link>data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;</link>
      <guid>hostile-2</guid>
      <pubDate>Mon, 02 Jun 2025 10:00:00 +0000</pubDate>
    </item>
    <item>
      <title>Spaced script link</title>
      <link> &#x09;JaVaScRiPt:alert(3)</link>
      <guid>hostile-3</guid>
      <pubDate>Mon, 02 Jun 2025 10:00:00 +0000</pubDate>
    </item>
    <item>
      <title>A fine report</title>
      <link>https://metr.org/blog/2025-06-02-fine/</link>
      <pubDate>Mon, 02 Jun 2025 10:00:00 +0000</pubDate>
    </item>
"""


@pytest.fixture
def reports(cli: Cli, tmp_path: Path, state_dir: Path) -> dict[str, str]:
    """A feed whose new items link to javascript: and data: URLs (the first poll is the
    baseline, the second brings the items), rendered in every format and written."""
    baseline = tmp_path / "baseline.xml"
    baseline.write_bytes(SAMPLE_FEED.read_bytes())
    cli("poll", "metr-feed", "--from-file", str(baseline), "--at", "2025-06-01T12:00Z")
    hostile = tmp_path / "hostile.xml"
    hostile.write_bytes(feed_with(HOSTILE_ITEMS))
    cli("poll", "metr-feed", "--from-file", str(hostile), "--at", "2025-06-02T00:00Z")
    rendered = {fmt: cli("digest", "--date", "2025-06-02", "--format", fmt, "--stdout").output
                for fmt in ("md", "html", "json")}
    cli("digest", "--date", "2025-06-02")
    rendered["atom"] = (state_dir / "digests" / "feed.atom").read_text()
    return rendered


def test_report_links_other_than_http_are_shown_as_text(reports: dict[str, str]) -> None:
    titles = [r["title"] for r in json.loads(reports["json"])["reports"]]
    assert "A fine report" in titles and len(titles) >= 2, titles
    for fmt in ("md", "html", "atom"):
        text = reports[fmt].lower()
        assert "javascript:" not in text and "data:text" not in text, fmt
    assert "[A fine report](<https://metr.org/blog/2025-06-02-fine/>)" in reports["md"]
    assert '<a href="https://metr.org/blog/2025-06-02-fine/"' in reports["html"]
    assert re.search(r"^- Script link # Injected heading - \\`p\\` open → resolved \\\*\\\*yes"
                     r"\\\*\\\* \(2025-06-02\)$", reports["md"], re.MULTILINE)
    assert "<li>Data link &lt;b&gt; (2025-06-02)</li>" in reports["html"]
    headings = [line for line in reports["md"].splitlines() if line.startswith("#")]
    assert set(headings) <= DIGEST_HEADINGS, headings
    assert not resolution_lines(reports["md"])
    ET.fromstring(reports["atom"].encode())


def test_a_stored_javascript_link_is_not_rendered_as_one(cli: Cli, reports: dict[str, str],
                                                        state_dir: Path) -> None:
    """feedparser drops javascript: and data: links today; the renderer does not rely on it:
    the same reports, stored with such links (as a laxer parser would keep them), are shown
    as text in every format, and the JSON keeps the links as they came."""
    hostile = {"Script link%": " JaVaScRiPt:alert(1)", "Data link%": "data:text/html,<b>x</b>",
               "Spaced%": "\tjava\nscript:alert(3)"}
    with sqlite3.connect(state_dir / "resolver.db") as db:
        for title, link in hostile.items():
            db.execute("UPDATE reports SET link = ? WHERE title LIKE ?", [link, title])
    rendered = {fmt: cli("digest", "--date", "2025-06-02", "--format", fmt, "--stdout").output
                for fmt in ("md", "html", "json")}
    cli("digest", "--date", "2025-06-02")
    rendered["atom"] = (state_dir / "digests" / "feed.atom").read_text(encoding="utf-8")
    links = sorted(r["link"] for r in json.loads(rendered["json"])["reports"])
    assert links == sorted([*hostile.values(), "https://metr.org/blog/2025-06-02-fine/"])
    for fmt in ("md", "html", "atom"):
        text = re.sub(r"\s", "", rendered[fmt].lower())
        assert "javascript:" not in text and "data:text" not in text, fmt
    assert "- Data link \\<b> (2025-06-02)" in rendered["md"]
    assert "<li>Data link &lt;b&gt; (2025-06-02)</li>" in rendered["html"]
    assert rendered["html"].count("<a href=") == 1
    ET.fromstring(rendered["atom"].encode())


@pytest.mark.parametrize("link, kept", [
    ("https://example.org/a b", "https://example.org/a%20b"),
    ("HTTP://example.org/", "HTTP://example.org/"),
    ("  https://example.org/x>y\n", "https://example.org/x%3Ey"),
    ("https://exa\nmple.org/", "https://example.org/"),
    ("\x00\x1fhttps://example.org/", "https://example.org/"),
    ("javascript:alert(1)", None),
    (" \tJaVaScRiPt:alert(1)", None),
    ("java\nscript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("vbscript:x", None),
    ("//example.org/", None),
    ("/relative", None),
    ("", None),
    (None, None),
])
def test_only_http_links_are_kept(link: str | None, kept: str | None) -> None:
    assert web_link(link) == kept


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\u2028b", "a\u2029b", "a\x85b",
                                  "a\x00b", "a\x1bb", "a\tb", "a\x0bb", "a\ud800b"])
def test_markdown_text_is_one_line(text: str) -> None:
    assert markdown_text(text) == "a b" or markdown_text(text) == "a  b"


def test_a_source_health_alert_is_one_escaped_line(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Alerts go out as Markdown and quote what a source said (its error, a suspicious
    benchmark's reason): the same one-line escaping as the digest."""
    from resolver import notify
    from resolver.settings import load
    from state import health
    from state.db import open_db

    failing = health.Health(last_success=None, rows=None, last_failure="2025-06-02T00:00:00Z",
                           last_error=f"not JSON: {FORGED} <img src=x onerror=alert(1)>",
                           failing_since="2025-06-02T00:00:00Z", suspicious=())
    monkeypatch.setattr(health, "of", lambda db, source: failing if source == "swe-bench"
                        else health.Health(None, None, None, None, None, ()))
    sent: list[dict[str, str]] = []
    monkeypatch.setattr(notify, "send", lambda urls, *, title, body: sent.append(
        {"title": title, "body": body}) or True)
    settings = load({"RESOLVER_STATE_DIR": str(state_dir),
                     "RESOLVER_NOTIFY": '["json://127.0.0.1:9/hook"]'})
    db = open_db(state_dir)
    try:
        notify.health_changes(db, settings)
    finally:
        db.conn.close()
    [alert] = sent
    assert alert["title"] == "resolver: source swe-bench failing"
    assert "\n" not in alert["body"] and "<img" not in alert["body"].replace("\\<img", "")
    assert alert["body"].startswith("swe-bench is failing since 2025-06-02T00:00:00Z: not JSON:"
                                    " evil # Injected heading - \\`p-late\\` open")


def test_xml_text_replaces_every_forbidden_character_whatever_the_text() -> None:
    """The printable-ASCII shortcut changes nothing: every other text goes through the rule."""
    import random
    import re

    from resolver.render import xml_text

    forbidden = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    rng = random.Random(5)
    alphabet = [chr(c) for c in (*range(0x80), 0xD800, 0xFFFE, 0xFFFF, 0x2028, 0x1F600)]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))
        cleaned = xml_text(text)
        assert len(cleaned) == len(text) and not forbidden.search(cleaned)
        assert all(a == b or b == "\ufffd" for a, b in zip(text, cleaned, strict=True))
        assert cleaned == forbidden.sub("\ufffd", text)
