"""The daemon's read-only HTTP page (stdlib ``http.server``; nothing on it writes).

    /                  the site's status board (``<state>/site/index.html``, written by
                       ``resolver.site``); the latest HTML digest until the site is written
    /p/ID.html|.zip    a prediction's page and evidence bundle; /b/BENCHMARK.html,
                       /b/SOURCE/BENCHMARK.html, /authors/SLUG.html: the site's other pages
    /evidence/SHA256   the archived raw bytes, from the store, as an attachment
    /api/predictions/ID, /api/benchmarks/ID    the site's JSON mirrors
    /digests/          the archive; /digests/DATE.html|.md|.json one digest
    /feed.atom         the Atom feed
    /api/predictions   the `predict list --json` data
    /healthz           200 while the daemon's heartbeat is fresh, else 503

Only paths matching strict patterns are served from the site folder (each segment starts with
a letter or digit, so no ``..``; the file is also checked to lie inside the folder).

Limits (DESIGN section 13), so that idle or slow clients cannot hold the daemon:

- at most ``MAX_CONNECTIONS`` connections are served at once, each on its own thread; one
  accepted beyond that is closed at once, without a thread;
- a connection must complete its request (line, headers and any body) within
  ``REQUEST_SECONDS`` of accept: every read waits only for what is left of that deadline, so a
  client dripping a byte a second is cut like an idle one; each write of a response must be
  taken within ``WRITE_SECONDS``;
- one request per connection (HTTP/1.0 answers), so the deadline bounds a connection's life;
- every response, ``send_error``'s too, carries ``SECURITY_HEADERS``; an exception while
  answering is a 500 (one log line, no traceback on stderr).

``Page.respond`` maps a GET to a ``Response`` before anything is written, so a route that
fails cannot leave half a response behind; a new route is a branch there, a new method a
``do_*`` that builds a ``Response`` the same way (its body read from ``rfile``, which carries the
request deadline).
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from resolver import log
from resolver.settings import Settings
from state.records import JSON

MAX_CONNECTIONS = 64
REQUEST_SECONDS = 10.0
WRITE_SECONDS = 10.0

_DIGEST = re.compile(r"^/digests/(\d{4}-\d{2}-\d{2}\.(?:html|md|json))$")
_NAME = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,120}"
_SITE = re.compile(rf"^/(p/{_NAME}\.(?:html|zip)|b/(?:{_NAME}/)?{_NAME}\.html|"
                   rf"authors/{_NAME}\.html|api/predictions\.json)$")
_MIRROR = re.compile(rf"^/api/(predictions|benchmarks)/((?:{_NAME}/)?{_NAME}?)$")
_EVIDENCE = re.compile(r"^/evidence/([0-9a-f]{64})$")
_TYPES = {"html": "text/html; charset=utf-8", "zip": "application/zip",
          "octet": "application/octet-stream", "md": "text/markdown; charset=utf-8",
          "json": "application/json", "atom": "application/atom+xml; charset=utf-8",
          "text": "text/plain; charset=utf-8"}
# Digests carry inline CSS and inline SVG, and nothing else: no script, font or remote style.
_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = (("Content-Security-Policy", _POLICY),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "no-referrer"))


class Response(NamedTuple):
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


class Page:
    def __init__(self, settings: Settings, *, max_connections: int = MAX_CONNECTIONS,
                 request_seconds: float = REQUEST_SECONDS) -> None:
        self.settings = settings
        self.folder = settings.state_dir / "digests"
        self.site = settings.state_dir / "site"
        self.server = _Server((settings.http_host, settings.http_port),
                              _handler(self, request_seconds), max_connections=max_connections)
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

    def respond(self, path: str) -> Response:
        if path in ("/", "/index.html") and (self.site / "index.html").is_file():
            return Response(200, _TYPES["html"], (self.site / "index.html").read_bytes())
        if match := _SITE.match(path):
            found = self._site_file(match.group(1))
            if found.status == 404 and path.endswith(".zip"):
                return self._bundle(path.removeprefix("/p/").removesuffix(".zip"))
            return found
        if match := _MIRROR.match(path):
            name = match.group(2).removesuffix(".json")
            if name:
                return self._site_file(f"api/{match.group(1)}/{name}.json")
        if match := _EVIDENCE.match(path):
            return self._evidence(match.group(1))
        if path == "/":
            latest = sorted(self.folder.glob("????-??-??.html"))
            if not latest:
                return Response(200, _TYPES["html"], _empty().encode())
            return Response(200, _TYPES["html"], latest[-1].read_bytes())
        if path in ("/digests", "/digests/"):
            return Response(200, _TYPES["html"], self._archive().encode())
        if match := _DIGEST.match(path):
            file = self.folder / match.group(1)
            if file.is_file():
                return Response(200, _TYPES[file.suffix[1:]], file.read_bytes())
        elif path == "/feed.atom" and (self.folder / "feed.atom").is_file():
            return Response(200, _TYPES["atom"], (self.folder / "feed.atom").read_bytes())
        elif path == "/api/predictions":
            return Response(200, _TYPES["json"],
                            json.dumps(self._predictions(), indent=2).encode())
        elif path == "/healthz":
            from resolver import heartbeat

            fresh = heartbeat.fresh(self.settings)
            return Response(200 if fresh else 503, _TYPES["text"],
                            b"ok\n" if fresh else b"stale\n")
        return Response(404, _TYPES["text"], b"not found\n")

    def _site_file(self, name: str) -> Response:
        file = self.site / name
        if ".." in name or not file.resolve().is_relative_to(self.site.resolve()) \
                or not file.is_file():
            return Response(404, _TYPES["text"], b"not found\n")
        kind = file.suffix[1:]
        headers = ((("Content-Disposition", f'attachment; filename="{file.name}"'),)
                   if kind == "zip" else ())
        return Response(200, _TYPES[kind], file.read_bytes(), headers)

    def _bundle(self, prediction_id: str) -> Response:
        """An evidence bundle the site did not write (an open prediction's), made now."""
        from resolver import export
        from resolver.errors import NotFound
        from state.db import open_db

        db = open_db(self.settings.state_dir)
        try:
            body = export.export(db, self.settings, prediction_id)
        except NotFound:
            return Response(404, _TYPES["text"], b"not found\n")
        finally:
            db.conn.close()
        disposition = f'attachment; filename="{prediction_id}.zip"'
        return Response(200, _TYPES["zip"], body, (("Content-Disposition", disposition),))

    def _evidence(self, sha: str) -> Response:
        from state import payloads
        from state.db import open_db

        db = open_db(self.settings.state_dir)
        try:
            full, body = payloads.load(db, sha)
        except payloads.UnknownSnapshot:
            return Response(404, _TYPES["text"], b"no such snapshot\n")
        finally:
            db.conn.close()
        if full != sha:
            return Response(404, _TYPES["text"], b"no such snapshot\n")
        return Response(200, _TYPES["octet"], body,
                        (("Content-Disposition", f'attachment; filename="{sha}"'),))

    def _predictions(self) -> list[JSON]:
        from resolver import report
        from state.db import open_db

        db = open_db(self.settings.state_dir)
        try:
            return report.summaries(db, self.settings)
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


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` of them; the rest closed at once."""

    daemon_threads = True
    request_queue_size = 128  # a burst of connects waits in the backlog, not in SYN retries

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *,
                 max_connections: int) -> None:
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # beyond the limit: closed at once, no thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()  # no thread started, so nothing else will release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line instead of socketserver's traceback on stderr; a client that went
        away (reset, broken pipe) is not an error of ours."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        log.event("http", level=logging.ERROR, error=f"{type(error).__name__}: {error}")


class _DeadlineReader(io.RawIOBase):
    """A socket's reads, each waiting only for what is left until ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self.sock = sock
        self.deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request was not complete in time")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


def _handler(page: Page, request_seconds: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # A request line without a version (HTTP/0.9) would be answered without a status line
        # or headers; parse_request refuses it, and its 400 goes out with headers.
        default_request_version = "HTTP/1.0"
        connection: socket.socket
        raw_requestline: bytes

        def setup(self) -> None:
            deadline = time.monotonic() + request_seconds  # the connection was just accepted
            super().setup()
            self.rfile.close()  # the plain socket file, replaced by one that keeps the deadline
            self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline))

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one log line per poll and per change, not per page view

        def end_headers(self) -> None:
            for name, value in SECURITY_HEADERS:  # every response, send_error's included
                self.send_header(name, value)
            self.connection.settimeout(WRITE_SECONDS)
            super().end_headers()

        def version_string(self) -> str:
            return "resolver"

        def parse_request(self) -> bool:
            if len(self.raw_requestline.split()) == 2:  # HTTP/0.9: refused before any header
                self.command, self.request_version = "", self.default_request_version
                self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
                self.close_connection = True
                self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 requests are not served")
                return False
            return super().parse_request()

        def do_HEAD(self) -> None:
            self._answer(self._get(), body=False)

        def do_GET(self) -> None:
            self._answer(self._get(), body=True)

        def _get(self) -> Response:
            try:
                return page.respond(self.path.split("?", 1)[0])
            except Exception as error:
                log.event("http", level=logging.ERROR, path=self.path,
                          error=f"{type(error).__name__}: {error}")
                return Response(500, _TYPES["text"], b"internal error\n")

        def _refuse(self) -> None:
            self._answer(Response(HTTPStatus.METHOD_NOT_ALLOWED, _TYPES["text"], b"read-only\n",
                                  (("Allow", "GET, HEAD"),)), body=True)

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/api/predictions":
                self._refuse()
                return
            self._answer(self._register(), body=True)

        def _register(self) -> Response:
            """Registration over HTTP (DESIGN section 13), the only write this server takes:
            resolver.intake decides every status; the body is read up to one byte over
            its limit, and a connection whose body was not read whole is closed."""
            from resolver.intake import MAX_BODY, register_json
            from state.db import open_db

            try:
                length = max(int(self.headers.get("Content-Length") or 0), 0)
            except ValueError:
                length = 0
            data = self.rfile.read(min(length, MAX_BODY + 1))
            if length > MAX_BODY:
                self.close_connection = True
            try:
                db = open_db(page.settings.state_dir)
                try:
                    status, answer = register_json(db, page.settings, data,
                                                   self.headers.get("Authorization"))
                finally:
                    db.conn.close()
            except Exception as error:
                log.event("http", level=logging.ERROR, path=self.path,
                          error=f"{type(error).__name__}: {error}")
                return Response(500, _TYPES["text"], b"internal error\n")
            if status == 201:
                log.event("registered", id=answer["id"], via="http")
            body = json.dumps(answer, indent=2, allow_nan=False).encode() + b"\n"
            return Response(status, _TYPES["json"], body)

        def _answer(self, response: Response, *, body: bool) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "no-cache")
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(response.body)

    return Handler


def _empty() -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>resolver"
            "</title></head><body><p>No digest has been written yet. See "
            "<a href=\"/api/predictions\">the predictions</a>.</p></body></html>")
