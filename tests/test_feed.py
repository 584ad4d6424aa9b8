"""The rss kind (metr-feed): reports, not numbers; translations and re-sent items are not
new. No real snapshot of METR's feed exists, so tests/data/metr-feed.xml is a sample."""

from __future__ import annotations

import json

import pytest

from sources import rss
from sources.base import PayloadError
from tests.conftest import ROOT, Cli, only
from tests.server import FixtureServer

SAMPLE = ROOT / "tests" / "data" / "metr-feed.xml"
NEW_ITEMS = b"""
    <item>
      <title>Measuring the impact of early-2026 AI on developer productivity</title>
      <link>https://metr.org/blog/2026-03-09-developer-productivity/</link>
      <pubDate>Mon, 09 Mar 2026 17:00:00 +0000</pubDate>
    </item>
    <item>
      <title>Measuring the impact (zh)</title>
      <link>https://metr.org/zh-Hans/blog/2026-03-09-developer-productivity/</link>
      <pubDate>Tue, 10 Mar 2026 09:00:00 +0000</pubDate>
    </item>
"""


def test_sample_feed() -> None:
    snapshot = rss.parse(SAMPLE.read_bytes(), {"content-type": "application/rss+xml"})
    assert [(r.key, r.published) for r in snapshot.reports] == [
        ("https://metr.org/blog/2026-03-03-claude-opus-4-6-evaluation", "2026-03-03"),
        ("https://metr.org/blog/2026-01-29-time-horizon-1-1", "2026-01-29"),
        ("https://evaluations.metr.org/gpt-5-report", "2025-08-07"),
    ]
    assert snapshot.reports[2].title == "<script>alert(1)</script> GPT-5 report"
    assert snapshot.observations == []


@pytest.mark.parametrize("body, reason", [
    (b"<html><body>Not found</body></html>", "the feed has no items"),
    (b"<rss version='2.0'><channel><title>x</title></channel></rss>", "the feed has no items"),
    (b"\x00\x01garbage", "not a feed"),
])
def test_unusable_feeds(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        rss.parse(body)


def test_feed_polls_report_only_new_items(cli: Cli, http: FixtureServer) -> None:
    sample = SAMPLE.read_bytes()
    url = http.serve("/feed.xml", sample, content_type="application/rss+xml")
    env = {"RESOLVER_SOURCES__METR_FEED__URL": url, **only("metr-feed")}
    first = cli("poll", "metr-feed", **env)
    assert "status=ok rows=3" in first.output and "reports=" not in first.output
    # The same items re-sent with new dates, a new report, and its translation.
    resent = sample.replace(b"Tue, 03 Mar 2026", b"Wed, 04 Mar 2026").replace(
        b"<channel>", b"<channel>" + NEW_ITEMS, 1)
    http.serve("/feed.xml", resent, content_type="application/rss+xml")
    second = cli("poll", "metr-feed", **env)
    assert "reports=1" in second.output
    third = cli("poll", "metr-feed", **env)
    assert "status=unchanged" in third.output
    today = json.loads(cli("digest", "--format", "json", "--stdout",
                           RESOLVER_DIGEST_CRON="59 23 * * *").output)
    assert [r["title"] for r in today["reports"]] == [
        "Measuring the impact of early-2026 AI on developer productivity"]
