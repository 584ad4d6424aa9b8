"""The daemon's read-only HTTP page (stdlib ``http.server``; nothing on it writes).

    /                  the latest HTML digest
    /digests/          the archive; /digests/DATE.html|.md|.json one digest
    /feed.atom         the Atom feed
    /api/predictions   the `predict list --json` data
    /healthz           200 while the daemon's heartbeat is fresh, else 503
"""

from __future__ import annotations

import html
import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from resolver.settings import Settings

_DIGEST = re.compile(r"^/digests/(\d{4}-\d{2}-\d{2}\.(?:html|md|json))$")
_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
          "json": "application/json", "atom": "application/atom+xml; charset=utf-8"}
# Digests carry inline CSS and inline SVG, and nothing else: no script, font or remote style.
_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class Page:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = settings.state_dir / "digests"
        self.server = ThreadingHTTPServer((settings.http_host, settings.http_port),
                                          self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="http")

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        page = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "resolver"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one log line per poll and per change, not per page view

            def do_HEAD(self) -> None:
                self._serve(body=False)

            def do_GET(self) -> None:
                self._serve(body=True)

            def _serve(self, *, body: bool) -> None:
                status, kind, data = page.respond(self.path.split("?", 1)[0])
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Security-Policy", _POLICY)
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def _refuse(self) -> None:
                data = b"read-only\n"
                self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
                self.send_header("Allow", "GET, HEAD")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

        return Handler

    def respond(self, path: str) -> tuple[int, str, bytes]:
        if path == "/":
            latest = sorted(self.folder.glob("????-??-??.html"))
            if not latest:
                return 200, _TYPES["html"], _empty().encode()
            return 200, _TYPES["html"], latest[-1].read_bytes()
        if path in ("/digests", "/digests/"):
            return 200, _TYPES["html"], self._archive().encode()
        if match := _DIGEST.match(path):
            file = self.folder / match.group(1)
            if file.is_file():
                return 200, _TYPES[file.suffix[1:]], file.read_bytes()
        elif path == "/feed.atom" and (self.folder / "feed.atom").is_file():
            return 200, _TYPES["atom"], (self.folder / "feed.atom").read_bytes()
        elif path == "/api/predictions":
            return 200, _TYPES["json"], json.dumps(self._predictions(), indent=2).encode()
        elif path == "/healthz":
            from resolver.daemon import heartbeat_age

            age = heartbeat_age(self.settings)
            fresh = age is not None and age <= 3 * self.settings.heartbeat_every
            return (200 if fresh else 503), "text/plain", b"ok\n" if fresh else b"stale\n"
        return 404, "text/plain", b"not found\n"

    def _predictions(self) -> list[dict[str, Any]]:
        from resolver import report
        from state.db import open_db

        db = open_db(self.settings.state_dir)
        try:
            return report.summaries(db)
        finally:
            db.conn.close()

    def _archive(self) -> str:
        rows = []
        for file in sorted(self.folder.glob("????-??-??.html"), reverse=True):
            date = html.escape(file.stem)
            rows.append(f'<li><a href="/digests/{date}.html">{date}</a> '
                        f'(<a href="/digests/{date}.md">md</a>, '
                        f'<a href="/digests/{date}.json">json</a>)</li>')
        items = "\n".join(rows) or "<li>No digest written yet.</li>"
        return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
                f"name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>"
                f"resolver digests</title><style>body{{font:16px/1.5 system-ui,sans-serif;"
                f"max-width:860px;margin:0 auto;padding:1rem}}</style></head><body><h1>"
                f"Digests</h1><p><a href=\"/feed.atom\">Atom feed</a></p><ul>{items}</ul>"
                f"</body></html>")


def _empty() -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>resolver"
            "</title></head><body><p>No digest has been written yet. See "
            "<a href=\"/api/predictions\">the predictions</a>.</p></body></html>")
