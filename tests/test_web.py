"""The digest as people read it: HTML with charts, the Atom feed, the read-only page."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import feedparser
import httpx

from tests.conftest import Cli, only, resolver_command, wait
from tests.payloads import Payloads, filler, row

EVIL = "<script>alert(1)</script>"


def _state_with_a_resolution(cli: Cli, tmp_path: Path) -> None:
    write = Payloads(tmp_path)
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p --title 'Eighty <b>'")
    cli("predict add 'swe-bench-verified >= 95% by 2026-06-30' --id later")
    cli("poll", "swe-bench", "--from-file",
        write(filler(5) + [row("20250601_x", 81.0, "2025-06-01", name=EVIL)]),
        "--at", "2025-06-02T10:00Z")
    cli("digest --date 2025-06-03")


def test_html_digest_escapes_untrusted_text_and_inlines_charts(
    cli: Cli, tmp_path: Path, state_dir: Path,
) -> None:
    _state_with_a_resolution(cli, tmp_path)
    page = (state_dir / "digests" / "2025-06-03.html").read_text()
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Eighty &lt;b&gt;" in page
    assert "<script" not in page.lower()  # no script at all, inline or external
    assert "<svg" in page and "swe-bench-verified (swe-bench)" in page
    assert "http://" not in page.split("<svg", 1)[0]  # no external style or font
    assert cli("digest --date 2025-06-03 --format html --stdout").output == page


def test_atom_feed_is_valid_and_escapes(cli: Cli, tmp_path: Path, state_dir: Path) -> None:
    _state_with_a_resolution(cli, tmp_path)
    cli("digest --date 2025-06-04")
    text = (state_dir / "digests" / "feed.atom").read_bytes()
    feed = feedparser.parse(text)
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.title for e in feed.entries] == ["resolver digest 2025-06-04",
                                               "resolver digest 2025-06-03"]
    assert feed.entries[1].link.endswith("/digests/2025-06-03.html")
    assert feed.entries[1].summary == "1 became provisional, 1 new record"
    assert EVIL.encode() not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in feed.entries[1].content[0].value


def test_the_daemon_serves_the_digests_read_only(cli: Cli, tmp_path: Path,
                                                 state_dir: Path) -> None:
    _state_with_a_resolution(cli, tmp_path)
    env = {**os.environ, **only(), "RESOLVER_HTTP_PORT": str(_free_port()),
           "RESOLVER_HEARTBEAT_EVERY": "1s"}
    process = subprocess.Popen([*resolver_command(), "run"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{env['RESOLVER_HTTP_PORT']}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        # The start cycle polls, writes the digests due, then the site: / serves its board.
        board = state_dir / "site" / "index.html"
        assert wait(board.is_file, 20)
        home = httpx.get(base + "/")
        assert home.status_code == 200 and home.text == board.read_text()
        assert "default-src 'none'" in home.headers["Content-Security-Policy"]
        assert home.headers["X-Content-Type-Options"] == "nosniff"
        assert home.headers["Referrer-Policy"] == "no-referrer"
        archive = httpx.get(base + "/digests/").text
        assert '<a href="/digests/2025-06-03.html">2025-06-03</a>' in archive
        assert httpx.get(base + "/digests/2025-06-03.json").json()["date"] == "2025-06-03"
        assert not feedparser.parse(httpx.get(base + "/feed.atom").content).bozo
        predictions = httpx.get(base + "/api/predictions").json()
        assert {p["id"]: p["status"] for p in predictions} == {"p": "provisional",
                                                               "later": "open"}
        assert httpx.get(base + "/healthz").text == "ok\n"
        assert httpx.get(base + "/digests/../resolver.db").status_code == 404
        # Registration over HTTP is off while api_token is unset (DESIGN 13): 404.
        off = httpx.post(base + "/api/predictions", json={})
        assert off.status_code == 404 and off.headers["Referrer-Policy"] == "no-referrer"
        refused = httpx.post(base + "/digests/", json={})
        assert refused.status_code == 405 and refused.headers["Referrer-Policy"] == "no-referrer"
        assert httpx.delete(base + "/").status_code == 405
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert "http url=http://127.0.0.1:" in output


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_site_and_evidence_over_http_carry_the_headers(cli: Cli, tmp_path: Path,
                                                           state_dir: Path) -> None:
    from resolver import site
    from resolver.settings import load
    from resolver.web import Page
    from state.db import open_db

    _state_with_a_resolution(cli, tmp_path)
    settings = load()
    site.write(open_db(state_dir), settings, state_dir / "site")
    page = Page(load({"RESOLVER_STATE_DIR": str(state_dir), "RESOLVER_HTTP_PORT": "0",
                      "RESOLVER_HTTP_HOST": "127.0.0.1"}))
    page.start()
    try:
        base = f"http://127.0.0.1:{page.port}"
        board = httpx.get(base + "/")
        assert board.status_code == 200 and "Status board" in board.text
        assert "default-src 'none'" in board.headers["content-security-policy"]
        sha = next((state_dir / "site" / "evidence").iterdir()).name
        raw = httpx.get(f"{base}/evidence/{sha}")
        assert raw.headers["content-disposition"] == f'attachment; filename="{sha}"'
        assert raw.headers["x-content-type-options"] == "nosniff"
        assert httpx.get(base + "/p/../resolver.db").status_code == 404
        assert httpx.get(base + "/digests/").status_code == 200
    finally:
        page.stop()
