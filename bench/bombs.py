"""Peak memory of a poll on bombs, against a normal poll of the same kind (DESIGN section 15:
under 8x ``max_payload``):

    .venv/bin/python bench/bombs.py [--fixtures ../shared/fixtures]

Every poll is a fresh ``python -m resolver poll ...`` with ``RESOLVER_MAX_PAYLOAD=1MB`` and
its own state dir; its peak RSS is its own VmHWM at exit. Over loopback HTTP: a gzip bomb
(256 MB) and a doubly gzipped one (1 GiB). Through ``--from-file``: an Epoch-style zip whose
one CSV member inflates to 50 MB, an xlsx whose sheet inflates to 50 MB and a YAML billion
laughs; and the zip bomb again with headers that lie about its size. Each bomb is compared
with a normal poll of the same kind in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_PAYLOAD = 1024 * 1024
INFLATED = 50 * 1024 * 1024


def gzipped(data: Iterator[bytes]) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(packer.compress(chunk) for chunk in data) + packer.flush()


def zeros(total: int) -> Iterator[bytes]:
    chunk = b"\0" * (1 << 20)
    for _ in range(total >> 20):
        yield chunk


def repeated(head: bytes, line: bytes, tail: bytes, total: int) -> bytes:
    return head + line * ((total - len(head) - len(tail)) // len(line)) + tail


def zip_bomb(fixtures: Path) -> bytes:
    csv = (fixtures / "epoch" / "swe_bench_bash.2026-04-19.csv").read_bytes()
    header, row = csv.splitlines()[:2]
    return zipped({"swe_bench_bash.csv": repeated(header + b"\n", row + b"\n", b"", INFLATED)})


def lying(archive: bytes, size: int = 1000) -> bytes:
    """A one-member zip whose headers (local and central) declare ``size`` uncompressed bytes."""
    data = bytearray(archive)
    struct.pack_into("<I", data, 22, size)  # local file header
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def xlsx_bomb(fixtures: Path) -> bytes:
    real = fixtures / "osworld" / "osworld_verified_results.2025-10-04.xlsx"
    with zipfile.ZipFile(real) as book:
        members = {name: book.read(name) for name in book.namelist()}
    sheet = next(n for n in members if n.startswith("xl/worksheets/sheet"))
    head, _, tail = members[sheet].partition(b"</sheetData>")
    row = b'<row><c t="inlineStr"><is><t>GPT</t></is></c><c><v>42.5</v></c></row>'
    members[sheet] = repeated(head, row, b"</sheetData>" + tail, INFLATED)
    return zipped(members)


def billion_laughs() -> bytes:
    lines = ['a0: &a0 ["' + "lol" * 5000 + '"]']
    for level in range(1, 12):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    lines.append("benchmark_name: laughs")
    lines.append("results: *a11")
    return ("\n".join(lines) + "\n").encode()


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def serve(routes: dict[str, tuple[bytes, str | None]]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, encoding = routes[self.path]
            self.send_response(200)
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# The child writes its own high-water mark at exit: a child's ru_maxrss (wait4, RUSAGE_CHILDREN)
# starts at the RSS of the parent it was forked from, which here holds the bombs.
CHILD = """
import atexit, re, runpy, sys
def peak(path=sys.argv[1]):
    status = open("/proc/self/status").read()
    open(path, "w").write(re.search(r"VmHWM:\\s+(\\d+ kB)", status).group(1))
atexit.register(peak)
sys.argv = sys.argv[2:]
runpy.run_module("resolver", run_name="__main__", alter_sys=True)
"""


def poll(source: str, *, url: str | None = None, from_file: Path | None = None) -> tuple[str, int]:
    """The poll's outcome (its log line's status and error) and its peak RSS in bytes."""
    import sources

    state = tempfile.mkdtemp(prefix="resolver-bombs-")
    env = {**os.environ, "RESOLVER_STATE_DIR": state, "RESOLVER_MAX_PAYLOAD": "1MB",
           "RESOLVER_HTTP_TIMEOUT": "30s"}
    env.update({f"RESOLVER_SOURCES__{s.name.upper().replace('-', '_')}__ENABLED": "false"
                for s in sources.BUILTIN if s.name != source})
    if url:
        env[f"RESOLVER_SOURCES__{source.upper().replace('-', '_')}__URL"] = url
    argv = ["resolver", "poll", source, *(["--from-file", str(from_file)] if from_file else [])]
    peak = Path(state) / "VmHWM"
    child = subprocess.run([sys.executable, "-c", CHILD, str(peak), *argv], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    return outcome(child.stdout.decode()), int(peak.read_text().split()[0]) * 1024


def outcome(output: str) -> str:
    line = next((ln for ln in output.splitlines() if ln.startswith("poll source=")),
                output.strip().splitlines()[-1] if output.strip() else "no output")
    status = re.search(r"status=(\w+)", line)
    if status and status.group(1) != "failed":
        rows = re.search(r"rows=(\d+)", line)
        return f"{status.group(1)}, {rows.group(1) if rows else 0} rows"
    error = re.search(r'error="((?:[^"\\]|\\.)*)"', line)
    reason = error.group(1) if error else line
    return f"refused ({reason[:120]}{'...' if len(reason) > 120 else ''})"


def report(name: str, result: tuple[str, int], baseline: int) -> None:
    said, rss = result
    over = rss - baseline
    print(f"{name}: {said}, peak RSS {rss / 2**20:.1f} MB, {over / 2**20:+.1f} MB over the "
          f"baseline = {over / MAX_PAYLOAD:.1f}x max_payload")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    args = parser.parse_args()
    fixtures: Path = args.fixtures
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="resolver-bombs-"))
    small = (fixtures / "swe-bench" / "leaderboards.2025-05-07.json").read_bytes()
    gzip_bomb = gzipped(zeros(256 << 20))
    double = gzip.compress(gzipped(zeros(1 << 30)), 9)
    server, base = serve({"/small.json": (small, None), "/gzip": (gzip_bomb, "gzip"),
                          "/gzip2": (double, "gzip, gzip")})
    files = {"zip": zip_bomb(fixtures), "lying.zip": lying(zip_bomb(fixtures)),
             "xlsx": xlsx_bomb(fixtures), "yaml": billion_laughs(),
             "small.zip": zipped({"swe_bench_bash.csv": (
                 fixtures / "epoch" / "swe_bench_bash.2026-04-19.csv").read_bytes()})}
    for name, data in files.items():
        (work / f"bomb.{name}").write_bytes(data)
    try:
        print(f"max_payload = 1MB ({MAX_PAYLOAD} bytes); each poll a fresh process")
        said, http = poll("swe-bench", url=base + "/small.json")
        print(f"baseline, swe-bench over HTTP ({len(small) // 1024} KB JSON): {said}, "
              f"peak RSS {http / 2**20:.1f} MB")
        report(f"gzip bomb ({len(gzip_bomb) // 1024} KB -> 256 MB)",
               poll("swe-bench", url=base + "/gzip"), http)
        report(f"double gzip bomb ({len(double)} bytes -> 1 GiB, gzip, gzip)",
               poll("swe-bench", url=base + "/gzip2"), http)
        for source, real, bomb, label in [
            ("epoch-hub", work / "bomb.small.zip", "zip",
             "zip bomb (one CSV member -> 50 MB)"),
            ("osworld-verified", fixtures / "osworld" / "osworld_verified_results.2025-10-04.xlsx",
             "xlsx", "xlsx bomb (sheet -> 50 MB)"),
            ("metr", fixtures / "metr" / "benchmark_results_1_1.2026-01-30.yaml", "yaml",
             "YAML billion laughs"),
        ]:
            said, baseline = poll(source, from_file=real)
            print(f"baseline, {source} --from-file {real.name} ({real.stat().st_size // 1024} "
                  f"KB): {said}, peak RSS {baseline / 2**20:.1f} MB")
            for suffix, more in [(bomb, ""), (f"lying.{bomb}", ", its headers declaring 1000")]:
                path = work / f"bomb.{suffix}"
                if path.exists():
                    report(f"{label}{more} ({path.stat().st_size // 1024} KB)",
                           poll(source, from_file=path), baseline)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
