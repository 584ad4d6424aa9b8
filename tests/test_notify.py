"""Notifications through Apprise (json:// to the loopback server): digests at least once,
source-health alerts once per change and apart from outcomes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import Cli, only
from tests.server import FixtureServer


def polled_yesterday(cli: Cli, swe_bench: Path) -> None:
    """A successful poll a day ago: a store's first digest is the one after its first
    successful poll (DESIGN section 8), so today's is then due."""
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cli("poll", "swe-bench", "--from-file", str(swe_bench / "leaderboards.2025-05-07.json"),
        "--at", at, **only("swe-bench"))


def test_digest_and_source_health_notifications(cli: Cli, http: FixtureServer,
                                                swe_bench: Path) -> None:
    hook = http.url("/hook").replace("http://", "json://")
    env = {"RESOLVER_NOTIFY": f'["{hook}"]', "RESOLVER_DIGEST_CRON": "0 0 * * *",
           "RESOLVER_SOURCES__SWE_BENCH__URL": http.url("/lb.json"),
           "RESOLVER_PUBLIC_URL": "https://resolver.example.org/", **only("swe-bench")}
    # The source is down (it was up yesterday): one alert, and the digest.
    polled_yesterday(cli, swe_bench)
    cli("run", "--once", expect=3, **env)
    titles = [p["body"]["title"] for p in http.posts]
    assert "resolver: source swe-bench failing" in titles
    digest = [p["body"] for p in http.posts if p["body"]["title"].startswith("resolver digest")]
    assert len(digest) == 1
    assert "https://resolver.example.org/digests/" in digest[0]["message"]
    alert = next(p["body"] for p in http.posts if "failing" in p["body"]["title"])
    assert "swe-bench is failing since" in alert["message"] and "HTTP 404" in alert["message"]
    # Still down: no second alert, and the digest is not sent again.
    count = len(http.posts)
    cli("run", "--once", expect=3, **env)
    assert len(http.posts) == count
    # Back up: one recovery alert.
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    cli("run", "--once", **env)
    assert [p["body"]["title"] for p in http.posts[count:]] == [
        "resolver: source swe-bench ok"]


def test_an_undelivered_digest_is_sent_at_the_next_cycle(cli: Cli, http: FixtureServer,
                                                         swe_bench: Path) -> None:
    http.serve("/lb.json", (swe_bench / "leaderboards.2025-07-31.json").read_bytes())
    hook = http.url("/hook").replace("http://", "json://")
    env = {"RESOLVER_NOTIFY": f'["{hook}"]', "RESOLVER_DIGEST_CRON": "0 0 * * *",
           "RESOLVER_SOURCES__SWE_BENCH__URL": http.url("/lb.json"), **only("swe-bench")}
    polled_yesterday(cli, swe_bench)
    http.refuse_posts = 10
    cli("run", "--once", **env)
    assert http.posts == []
    http.refuse_posts = 0
    cli("run", "--once", **env)
    assert [p["body"]["title"][:16] for p in http.posts] == ["resolver digest "]
