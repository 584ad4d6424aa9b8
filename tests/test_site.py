"""The static site (DESIGN section 13) on a replay of the seed predictions: every page renders,
every internal link resolves, evidence bytes hash to their names, numbers carry units, hostile
leaderboard text is escaped everywhere, and the daemon's page serves it without traversal."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT, SWE_BENCH_HISTORY, Cli, fixtures_dir, replay
from tests.payloads import Payloads, filler, row

TH11 = [("benchmark_results_1_1.2026-01-30.yaml", "2026-01-30T07:21:00Z"),
        ("benchmark_results_1_1.2026-03-03.yaml", "2026-03-04T02:04:00Z")]
NOW = "2026-03-05T00:00:00Z"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\nline two'


def _store() -> Any:
    from resolver.settings import load
    from state.db import open_db

    settings = load()
    return settings, open_db(settings.state_dir)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The seed predictions after the SWE-bench history and two METR TH1.1 polls, and the
    site written from them."""
    fixtures = fixtures_dir()
    state = tmp_path_factory.mktemp("replay") / "state"
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("RESOLVER_")]:
            patch.delenv(name)
        patch.setenv("RESOLVER_STATE_DIR", str(state))
        cli = Cli()
        cli("predict", "import", str(ROOT / "examples" / "ai-2027.toml"))
        replay(cli, fixtures / "swe-bench", SWE_BENCH_HISTORY, "swe-bench")
        replay(cli, fixtures / "metr", TH11, "metr")
        from resolver import site

        settings, db = _store()
        out = state.parent / "out"
        site.write(db, settings, out, now=NOW)
        site.write(db, settings, state / "site", now=NOW)
        yield state, out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v for k, v in attrs if k in ("href", "src") and v]


def _crawl(out: Path) -> set[str]:
    """Every file reached from index.html by internal links; fails on a missing target."""
    seen, todo, missing = {"index.html"}, ["index.html"], []
    while todo:
        page = todo.pop()
        parser = _Links()
        parser.feed((out / page).read_text())
        for link in parser.links:
            if link.startswith(("http://", "https://")) or link == "/digests/" or (
                    link.startswith("/p/") and link.endswith(".zip")):
                continue  # a source's page, the daemon's digests or an open bundle it makes
            assert not link.startswith("/"), f"{page}: absolute link {link}"
            target = os.path.normpath(PurePosixPath(page).parent / link)
            if not (out / target).is_file():
                missing.append(f"{page} -> {link}")
            elif target not in seen:
                seen.add(target)
                if target.endswith(".html"):
                    todo.append(target)
    assert not missing, missing
    return seen


def test_every_page_renders_and_every_internal_link_resolves(replayed: tuple[Path, Path]) -> None:
    _, out = replayed
    seen = _crawl(out)
    pages = {str(p.relative_to(out)) for p in out.rglob("*.html")}
    assert pages <= seen, f"pages no link reaches: {sorted(pages - seen)}"
    assert "b/metr-p50-horizon@1.1.html" in pages and "b/swe-bench-verified.html" in pages
    assert "p/ai2027-swe-bench-85.html" in pages and "authors/ai-2027.html" in pages
    assert not any(p.startswith("b/osworld") for p in pages) or (
        out / "b/osworld-verified.html").read_text().count("<svg") == 0  # no rows: no chart
    for page in pages:
        text = (out / page).read_text()
        assert "<script" not in text.lower(), page
        assert "http://" not in text.split("<body>")[0], page  # no external resource


def test_evidence_bytes_hash_to_their_names_and_bundles_are_written(
    replayed: tuple[Path, Path],
) -> None:
    _, out = replayed
    files = list((out / "evidence").iterdir())
    assert files
    for file in files:
        assert hashlib.sha256(file.read_bytes()).hexdigest() == file.name
    listed = json.loads((out / "api" / "predictions.json").read_text())
    for item in listed:
        if item["status"] == "open":  # made on request by the daemon's page
            assert not (out / "p" / f"{item['id']}.zip").exists()
            continue
        with zipfile.ZipFile(out / "p" / f"{item['id']}.zip") as bundle:
            assert "manifest.json" in bundle.namelist()
        mirror = json.loads((out / "api" / "predictions" / f"{item['id']}.json").read_text())
        assert mirror["id"] == item["id"] and "events" in mirror


def test_numbers_have_units_and_the_board_is_ordered(replayed: tuple[Path, Path]) -> None:
    _, out = replayed
    board = (out / "index.html").read_text()
    assert board.index("Open (") < board.index("Provisional (") < board.index("Resolved (")
    assert "79.2%" in board and "5.8 pp below 85%" in board  # best now, distance in pp
    assert "11 h 59 min" in board and "478.93" not in board
    page = (out / "p" / "metr-no-16x-in-2-years.html").read_text()
    assert "32 h 12 min" in page and "P(yes)" in page and "days left" in page
    bench = (out / "b" / "metr-p50-horizon@1.1.html").read_text()
    assert "doubling every" in bench and "<svg" in bench
    assert "metr-4x-in-a-year (&gt;=) and metr-plateau (&lt;): 8 h 3 min" in bench
    assert "window ends 2026-04-16" in bench


def test_a_rewrite_writes_nothing_when_nothing_changed(replayed: tuple[Path, Path]) -> None:
    from resolver import site

    state, out = replayed
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESOLVER_STATE_DIR", str(state))
        settings, db = _store()
        assert site.write(db, settings, out, now=NOW) == 0


def test_hostile_model_names_are_escaped_on_every_page(cli: Cli, tmp_path: Path) -> None:
    from resolver import site

    write = Payloads(tmp_path)
    cli("predict add 'swe-bench-verified >= 80% by 2025-12-31' --id p --title 'T <i>x</i>'"
        " --author '<b>Bold</b> & co'")
    cli("poll", "swe-bench", "--from-file",
        write(filler(5) + [row("20250601_x", 81.0, "2025-06-01", name=HOSTILE)]),
        "--at", "2025-06-02T10:00Z")
    settings, db = _store()
    out = tmp_path / "site"
    site.write(db, settings, out)
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert "<script" not in text.lower() and "<img" not in text and "<i>x" not in text
        assert "<b>Bold" not in text, page  # (a newline in HTML text is only a space)
    bench = (out / "b" / "swe-bench-verified.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img" in bench
    assert (out / "authors" / "b-bold-b-co.html").is_file()


def test_slugs_follow_the_rule_with_suffixes_on_collisions() -> None:
    from resolver.site import slugs

    assert slugs(["AI 2027", "ai-2027", "Ké Z", "a sceptic"]) == {
        "a sceptic": "a-sceptic", "AI 2027": "ai-2027", "ai-2027": "ai-2027-2", "Ké Z": "k-z"}


def test_the_page_serves_the_site_and_refuses_traversal(replayed: tuple[Path, Path]) -> None:
    from resolver.settings import load
    from resolver.web import Page

    state, out = replayed
    page = Page(load({"RESOLVER_STATE_DIR": str(state), "RESOLVER_HTTP_PORT": "0"}))
    try:
        assert page.respond("/").body == (state / "site" / "index.html").read_bytes()
        for path in ("/p/metr-plateau.html", "/b/metr-p50-horizon@1.1.html",
                     "/api/predictions/metr-plateau", "/api/benchmarks/metr-p50-horizon@1.1",
                     "/authors/a-sceptic.html", "/api/predictions.json"):
            assert page.respond(path).status == 200, path
        bundle = page.respond("/p/metr-plateau.zip")
        assert bundle.content_type == "application/zip"
        made = page.respond("/p/metr-no-16x-in-2-years.zip")  # open: made on request
        assert made.status == 200 and made.body[:2] == b"PK"
        assert page.respond("/p/nobody.zip").status == 404
        sha = next((out / "evidence").iterdir()).name
        answer = page.respond(f"/evidence/{sha}")
        assert hashlib.sha256(answer.body).hexdigest() == sha
        assert ("Content-Disposition", f'attachment; filename="{sha}"') in answer.headers
        (state / "secret.html").write_text("no")
        for path in ("/p/../secret.html", "/p/%2e%2e/secret.html", "/b/../../secret.html",
                     "/b/x/../../secret.html", "/authors/../secret.html", "/evidence/../x",
                     "/api/predictions/../../secret", "/p/.metr-plateau.zip.mark",
                     f"/evidence/{sha[:10]}", "/api/benchmarks/a/b/c", "/p//etc/passwd.html"):
            assert page.respond(path).status == 404, path
    finally:
        page.server.server_close()


def test_resolver_site_writes_anywhere_and_fails_in_one_line(
    replayed: tuple[Path, Path], tmp_path: Path,
) -> None:
    from resolver.cli_site import site
    from resolver.errors import ResolverError

    state, _ = replayed
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESOLVER_STATE_DIR", str(state))
        settings, db = _store()
        context = SimpleNamespace(settings=settings, db=db)
        result = CliRunner().invoke(site, ["--out", str(tmp_path / "pub")], obj=context)
        assert result.exit_code == 0, result.output
        assert (tmp_path / "pub" / "index.html").is_file() and "files written" in result.output
        (tmp_path / "file").write_text("")
        bad = CliRunner().invoke(site, ["--out", str(tmp_path / "file" / "x")], obj=context)
        assert isinstance(bad.exception, ResolverError) and "cannot write" in str(bad.exception)


def test_the_daemon_writes_no_bundles_and_its_page_makes_them(replayed: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    """The daemon's site carries no bundle files (a poll never pays ~50 ms per settled
    prediction for them); its page makes any one on request."""
    import httpx

    from resolver import daemon
    from resolver.web import Page

    state, _ = replayed
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("RESOLVER_")]:
            patch.delenv(name)
        patch.setenv("RESOLVER_STATE_DIR", str(state))
        patch.setenv("RESOLVER_HTTP_PORT", "0")
        patch.setattr(daemon, "_published", {})
        settings, db = _store()
        site_folder = state / "site"
        for bundle in site_folder.glob("p/*.zip"):
            bundle.unlink()
        daemon.publish(db, settings)
        assert not list(site_folder.glob("p/*.zip"))
        assert (site_folder / "p" / "ai2027-swe-bench-85.html").is_file()
        page = Page(settings)
        page.start()
        try:
            got = httpx.get(f"http://127.0.0.1:{page.port}/p/ai2027-swe-bench-85.zip")
        finally:
            page.stop()
        assert got.status_code == 200
        with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
            assert "manifest.json" in archive.namelist()
