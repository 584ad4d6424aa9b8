"""A loopback HTTP server for tests: serves recorded bytes with ETag / Last-Modified and
answers conditional requests, and injects faults on demand (5xx, 429 with Retry-After, a
slow response, a truncated body, a 304 to an unconditional request, a redirect), and the
hostile ones of tests/faults: a body or headers dripped byte by byte, the route's bytes sent
under a Content-Encoding or a lying Content-Length, a garbage status line, an invalid chunked
body, a connection reset mid-body."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
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
                else:
                    self._hostile(name, arg, route)

            def _hostile(self, name: str, arg: str, route: Route) -> None:
                head = f"HTTP/1.1 200 OK\r\nContent-Type: {route.content_type}\r\n"
                body = route.body
                if name == "encoding":  # the route's bytes are already encoded so
                    self._raw(f"{head}Content-Encoding: {arg}\r\n"
                              f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                elif name == "length":  # a Content-Length that is not the body's
                    self._raw(f"{head}Content-Length: {arg}\r\n\r\n".encode() + body)
                elif name == "drip-body":  # one byte every ARG seconds, after the headers
                    self._raw(f"{head}Content-Length: {len(body)}\r\n\r\n".encode())
                    self._drip(body, float(arg))
                elif name == "drip-headers":  # the status line and headers, byte by byte
                    self._drip(f"{head}X-Padding: {'x' * 200}\r\n\r\n".encode(), float(arg))
                elif name == "garbage":
                    self._raw(b"SPDY/9 banana\r\n\x00\xff\r\n\r\n")
                elif name == "chunked":  # a chunk size that is not hexadecimal
                    self._raw(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode()
                              + b"10\r\n" + body[:16] + b"\r\nzz\r\n" + body[16:])
                elif name == "reset":  # half the body, then RST instead of FIN
                    self._raw(f"{head}Content-Length: {len(body)}\r\n\r\n".encode()
                              + body[: len(body) // 2])
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()  # closed at finish(), with its files: an RST
                else:  # pragma: no cover
                    raise ValueError(name)
                self.close_connection = True

            def _raw(self, data: bytes) -> None:
                self.wfile.write(data)
                self.wfile.flush()

            def _drip(self, data: bytes, interval: float) -> None:
                for i in range(len(data)):
                    try:
                        self._raw(data[i : i + 1])
                    except OSError:  # the client gave up: what a drip test wants
                        return
                    time.sleep(interval)

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
