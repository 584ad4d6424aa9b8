"""The site in a real browser (DESIGN section 13): Debian's chromium, headless, screenshots
of the status board, a prediction page and a METR benchmark page at 390 and 1280 px, and a
check that nothing but a chart's own card scrolls sideways at 390 px.

The layout check reads the screenshot: pages carry no script, so the browser cannot report
``scrollWidth`` from inside them. Every page keeps a 1rem margin on both sides of its content,
and a card that scrolls clips its content at its own border; so if anything made the body wider
than the window, it would be drawn into (and cut off at) the right margin. The rightmost 10 px
columns of a 390 px screenshot must therefore be the page's background colour from top to
bottom. A control page with one 800 px wide block proves the check sees an overflow.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.test_site import replayed  # noqa: F401  (the replayed store and its site)

CHROMIUM = Path("/usr/bin/chromium")
BACKGROUND = (0xFA, 0xFA, 0xFA)
PAGES = {"board": "/", "prediction": "/p/metr-no-16x-in-2-years.html",
         "metr": "/b/metr-p50-horizon@1.1.html"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing at /usr/bin/chromium; .ci/run installs it")
        pytest.skip("chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    return CHROMIUM


def _shoot(chromium: Path, jobs: dict[str, tuple[str, int]], folder: Path) -> dict[str, Path]:
    """Screenshots of URL at WIDTH x 2000, all at once (each browser its own profile)."""
    running = {}
    for name, (url, width) in jobs.items():
        profile = folder / f"profile-{name}"
        shot = folder / f"{name}.png"
        running[name] = (shot, subprocess.Popen(
            [str(chromium), *FLAGS, f"--user-data-dir={profile}",
             f"--window-size={width},2000", f"--screenshot={shot}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for name, (shot, process) in running.items():
        assert process.wait(timeout=60) == 0 and shot.is_file(), f"no screenshot of {name}"
    return {name: shot for name, (shot, _) in running.items()}


def _pixels(png: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGB(A) rows of an 8-bit, non-interlaced PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        header, idat = (chunk, idat) if kind == b"IHDR" else (header, idat + chunk
                                                              if kind == b"IDAT" else idat)
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    size = 3 if color == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * size, [], bytes(width * size)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - size] if i >= size else 0
            b, c = previous[i], previous[i - size] if i >= size else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]) & 0xFF
        rows.append(bytes(line))
        previous = bytes(line)
    return width, height, [bytes(r[j] for j in range(len(r)) if j % size < 3) for r in rows]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _right_margin_is_background(png: Path, columns: int = 10) -> bool:
    width, _, rows = _pixels(png)
    margin = bytes(BACKGROUND) * columns
    return all(row[(width - columns) * 3:] == margin for row in rows)


def test_screenshots_at_390_and_1280_and_no_sideways_scroll_at_390(
    chromium: Path, replayed: tuple[Path, Path], tmp_path: Path,  # noqa: F811
) -> None:
    from resolver.settings import load
    from resolver.web import Page

    state, _ = replayed
    (state / "site" / "wide.html").write_text(  # the control: not a site page, not served
        '<!DOCTYPE html><body style="margin:0;background:#fafafa">'
        '<div style="width:800px;height:50px;background:#123"></div></body>')
    page = Page(load({"RESOLVER_STATE_DIR": str(state), "RESOLVER_HTTP_PORT": "0",
                      "RESOLVER_HTTP_HOST": "127.0.0.1"}))
    page.start()
    try:
        base = f"http://127.0.0.1:{page.port}"
        jobs = {f"{name}-{width}": (base + path, width) for name, path in PAGES.items()
                for width in (390, 1280)}
        jobs["control-390"] = ((state / "site" / "wide.html").as_uri(), 390)
        shots = _shoot(chromium, jobs, tmp_path)
    finally:
        page.stop()
    keep = os.environ.get("SITE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in shots.values():
            shutil.copy(shot, keep)
    assert not _right_margin_is_background(shots["control-390"]), "the check sees no overflow"
    for name in PAGES:
        assert struct.unpack(">I", shots[f"{name}-1280"].read_bytes()[16:20])[0] == 1280
        assert _right_margin_is_background(shots[f"{name}-390"]), f"{name} scrolls sideways"
