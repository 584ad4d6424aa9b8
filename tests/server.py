"""A loopback HTTP server for tests: serves recorded bytes with ETag / Last-Modified and
answers conditional requests, and injects faults on demand (5xx, 429 with Retry-After, a
slow response, a truncated body, a 304 to an unconditional request, a redirect)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes
    etag: str | None = None
    last_modified: str | None = "Wed, 10 Dec 2025 04:08:00 GMT"
    faults: list[str] = field(default_factory=list)  # consumed one per request
    content_type: str = "application/json"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test) leaves a broken pipe behind: expected.
        pass


class FixtureServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []  # what notifiers sent (Apprise json://)
        self.refuse_posts = 0  # answer this many POSTs with 500
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> FixtureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.requests.clear()
            self.posts.clear()
            self.refuse_posts = 0

    def serve(self, path: str, body: bytes, *, etag: bool = True, faults: list[str] | None = None,
              content_type: str = "application/json") -> str:
        tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"' if etag else None
        with self.lock:
            self.routes[path] = Route(body, tag, faults=list(faults or []),
                                      content_type=content_type)
        return self.url(path)

    def fault(self, path: str, *faults: str) -> None:
        with self.lock:
            self.routes[path].faults.extend(faults)

    def hits(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with server.lock:
                    refuse = server.refuse_posts > 0
                    server.refuse_posts -= 1 if refuse else 0
                    if not refuse:
                        server.posts.append({"path": self.path, "body": json.loads(body)})
                self._send(500 if refuse else 200, b"{}")

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers)})
                    route = server.routes.get(self.path)
                    fault = route.faults.pop(0) if route and route.faults else None
                if route is None:
                    return self._send(404, b"not found")
                if fault is not None:
                    return self._fault(fault, route)
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    return self._send(304, b"", etag=route.etag)
                return self._send(200, route.body, etag=route.etag,
                                  last_modified=route.last_modified,
                                  content_type=route.content_type)

            def _fault(self, fault: str, route: Route) -> None:
                name, _, arg = fault.partition(":")
                if name == "status":
                    self._send(int(arg), b"server error")
                elif name == "429":
                    self._send(429, b"slow down", extra={"Retry-After": arg or "1"})
                elif name == "sleep":
                    time.sleep(float(arg))
                    self._send(200, route.body, etag=route.etag)
                elif name == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body[: len(route.body) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                elif name == "304":
                    self._send(304, b"", etag=route.etag)
                elif name == "body":  # a different body for one request, same ETag
                    self._send(200, arg.encode(), etag=route.etag)
                elif name == "redirect":
                    self._send(301, b"", extra={"Location": arg})
                else:  # pragma: no cover
                    raise ValueError(fault)

            def _send(self, status: int, body: bytes, *, etag: str | None = None,
                      last_modified: str | None = None, content_type: str = "text/plain",
                      extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                if last_modified:
                    self.send_header("Last-Modified", last_modified)
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        return Handler
