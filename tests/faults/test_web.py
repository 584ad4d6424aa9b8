"""Hostile HTTP clients against the daemon's page (DESIGN section 13): idle and slow
connections are bounded, and every response, errors too, carries the security headers."""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from resolver.settings import load
from resolver.web import MAX_CONNECTIONS, REQUEST_SECONDS, Page

SECURITY = {"content-security-policy": "default-src 'none'",
            "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


@pytest.fixture
def page(state_dir: object) -> Iterator[Page]:
    running = Page(load())
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shared_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """One page for the many one-request cases (stopping a page takes half a second)."""
    state = tmp_path_factory.mktemp("state")
    running = Page(load({"RESOLVER_STATE_DIR": str(state), "RESOLVER_HTTP_PORT": "0"}))
    running.start()
    yield running
    running.stop()


def connect(page: Page) -> socket.socket:
    return socket.create_connection(("127.0.0.1", page.port), timeout=5)


def exchange(page: Page, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer: status, headers (lower-cased names), body."""
    with connect(page) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def closed_by_server(sockets: list[socket.socket], within: float,
                     expected: int) -> set[socket.socket]:
    """The sockets the server closes (EOF or reset) within ``within`` seconds; stops early
    once ``expected`` of them are."""
    closed: set[socket.socket] = set()
    deadline = time.monotonic() + within
    while len(closed) < expected and (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([s for s in sockets if s not in closed], [], [],
                                       min(left, 0.2))
        for sock in readable:
            try:
                if sock.recv(1024) == b"":
                    closed.add(sock)
            except OSError:
                closed.add(sock)
    return closed


def get_on(sock: socket.socket) -> bytes:
    sock.settimeout(2)
    sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def test_200_idle_connections_hold_64_threads_and_the_page_still_answers(page: Page) -> None:
    idle = [connect(page) for _ in range(200)]
    try:
        closed = closed_by_server(idle, within=3, expected=200 - MAX_CONNECTIONS)
        held = [s for s in idle if s not in closed]
        assert len(closed) == 200 - MAX_CONNECTIONS and len(held) == MAX_CONNECTIONS
        workers = [t for t in threading.enumerate() if "process_request" in t.name]
        assert len(workers) <= MAX_CONNECTIONS
        # A held connection is served on its own thread, at once.
        started = time.monotonic()
        assert get_on(held[0]).startswith(b"HTTP/1.0 503 ")  # no heartbeat in this test
        assert time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()
    # Clients that hang up free their slots at once: a new client is served within 2 s.
    started = time.monotonic()
    response = httpx.get(f"http://127.0.0.1:{page.port}/", timeout=2)
    assert response.status_code == 200 and time.monotonic() - started < 2


def test_the_65th_connection_is_closed_at_once_while_64_are_held(page: Page) -> None:
    held = [connect(page) for _ in range(MAX_CONNECTIONS)]
    try:
        started = time.monotonic()
        with connect(page) as extra:
            extra.settimeout(2)
            assert extra.recv(1024) == b""
        assert time.monotonic() - started < 1
        assert not closed_by_server(held, within=0.5, expected=1)  # the 64 stay open
    finally:
        for sock in held:
            sock.close()


def test_unfinished_and_dripping_requests_are_cut_10s_after_accept(page: Page) -> None:
    """One wait of ~10 s for three clients: an idle one, one that stops after the request
    line, and one that sends a header a byte a second. Meanwhile others are served."""
    idle, unfinished, drip = connect(page), connect(page), connect(page)
    accepted = time.monotonic()
    unfinished.sendall(b"GET / HTTP/1.1\r\n")
    stop = threading.Event()

    def dripping() -> None:
        drip.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
        while not stop.wait(1):
            try:
                drip.sendall(b"a")
            except OSError:
                return

    dripper = threading.Thread(target=dripping, daemon=True)
    dripper.start()
    try:
        time.sleep(1.5)
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{page.port}/", timeout=2).status_code == 200
        assert time.monotonic() - started < 2
        clients = [idle, unfinished, drip]
        cut_at = {}
        deadline = accepted + REQUEST_SECONDS + 3
        while len(cut_at) < 3 and time.monotonic() < deadline:
            for sock in closed_by_server([s for s in clients if s not in cut_at], within=0.1,
                                         expected=1):
                cut_at[sock] = time.monotonic() - accepted
        assert len(cut_at) == 3, "a slow client was not cut"
        for sock in clients:
            assert REQUEST_SECONDS - 0.5 <= cut_at[sock] <= REQUEST_SECONDS + 1.5, cut_at
    finally:
        stop.set()
        dripper.join(timeout=3)
        for sock in (idle, unfinished, drip):
            sock.close()


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET / HTTP/1.0\r\n\r\n", 200),
    (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    (b"GET /nothing-here HTTP/1.0\r\n\r\n", 404),
    (b"GET /digests/../resolver.db HTTP/1.0\r\n\r\n", 404),
    (b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}", 405),
    (b"POST /api/predictions HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}", 404),  # no token
    (b"DELETE / HTTP/1.0\r\n\r\n", 405),
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/1.0 extra words\r\n\r\n", 400),
    (b"GET / HTTP/x.y\r\n\r\n", 400),
    (b"GET /\r\n", 400),  # HTTP/0.9 would be answered without any header: refused
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"BREW / HTTP/1.0\r\n\r\n", 501),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", 414),
    (b"GET / HTTP/1.0\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
], ids=["200", "head", "404", "traversal", "405-post", "404-post-off", "405-delete", "400-garbage",
        "400-words", "400-version", "400-http09", "505", "501", "414", "431"])
def test_every_response_carries_the_security_headers(shared_page: Page, request_bytes: bytes,
                                                     status: int) -> None:
    got, headers, _ = exchange(shared_page, request_bytes)
    assert got == status
    for name, value in SECURITY.items():
        assert value in headers.get(name, ""), (name, headers)
    if status == 405:
        assert headers["allow"] == "GET, HEAD"


def test_a_handler_that_raises_gives_a_500_with_the_headers(
    page: Page, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    def broken(path: str) -> object:
        raise RuntimeError("a bug in a route")

    monkeypatch.setattr(page, "respond", broken)
    status, headers, body = exchange(page, b"GET / HTTP/1.0\r\n\r\n")
    assert status == 500 and body == b"internal error\n"
    assert all(value in headers[name] for name, value in SECURITY.items())
    assert "Traceback" not in capfd.readouterr().err
    monkeypatch.undo()
    assert exchange(page, b"GET / HTTP/1.0\r\n\r\n")[0] == 200  # and the page lives on


def test_a_client_that_hangs_up_mid_request_costs_nothing(
    page: Page, capfd: pytest.CaptureFixture[str],
) -> None:
    for request in (b"GET / HTTP/1.1\r\nHost:", b"POST / HTTP/1.0\r\nContent-Length: 9\r\n"):
        with connect(page) as sock:
            sock.sendall(request)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))  # close with a reset
    assert exchange(page, b"GET / HTTP/1.0\r\n\r\n")[0] == 200
    time.sleep(0.2)
    assert capfd.readouterr().err == ""
