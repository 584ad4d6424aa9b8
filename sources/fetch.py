"""Fetching a source's payload: HTTP(S) through httpx, or ``file://`` from disk.

The fetcher knows nothing about sources' formats. It returns the raw bytes with the
validators needed for the next conditional request, or ``not_modified`` for a 304.

What a hostile server cannot do (DESIGN section 15):

- hold a fetch longer than ``timeout`` seconds: one deadline covers every attempt, every wait
  between them, the connect, the status line and headers and the whole body. A watchdog shuts
  the socket down when it passes, which wakes a read blocked on a server that drips bytes;
- make us hold more than ``max_bytes`` of decoded payload: the body is read raw and inflated
  here (gzip, deflate, stacked) in bounded pieces, counted as they are produced;
- send us elsewhere than http/https, or through more than ``MAX_REDIRECTS`` redirects;
- raise anything but ``FetchError`` out of ``Fetcher.fetch``.

Errors::

    FetchError            the payload could not be obtained; ``reason`` says why
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # imported when a fetch over HTTP first needs it
    import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_PIECE = 64 * 1024  # most bytes one inflate step may produce


class FetchError(Exception):
    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        self.reason = reason
        self.http_status = http_status
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    body: bytes | None  # None when not modified
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass
class Fetcher:
    """A reusable fetcher; one httpx client for all sources of a process."""

    user_agent: str
    timeout: float = 30.0  # seconds for the whole fetch, retries and waits included
    max_bytes: int = 64 * 1024 * 1024  # of decoded payload
    attempts: int = 3
    backoff: float = 2.0  # seconds before the first retry; doubles after each
    sleep: Callable[[float], None] = time.sleep
    _client: httpx.Client | None = field(default=None, init=False, repr=False)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        try:
            if url.startswith("file:"):
                return self._fetch_file(url, last_modified=last_modified)
            return self._fetch_http(url, etag=etag, last_modified=last_modified)
        except FetchError:
            raise
        except Exception as error:  # the boundary: nothing else leaves a fetch
            raise FetchError(_describe(error)) from None

    def _fetch_http(self, url: str, *, etag: str | None, last_modified: str | None) -> Fetched:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.timeout
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return self._get(url, headers, deadline=deadline)
            except _Retryable as retry:
                wait = delay if retry.retry_after is None else retry.retry_after
                if attempt == self.attempts or wait > deadline - time.monotonic():
                    raise FetchError(retry.final_reason(wait),
                                     http_status=retry.http_status) from None
                self.sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _client_(self) -> httpx.Client:
        import httpx

        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                transport=_transport(),
                headers={"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
                event_hooks={"response": [_refuse_other_schemes]},
            )
        return self._client

    def _get(self, url: str, headers: dict[str, str], *, deadline: float) -> Fetched:
        import httpx

        watchdog = _Watchdog(deadline - time.monotonic())
        try:
            with self._client_().stream("GET", url, headers=headers,
                                        extensions={"trace": watchdog.trace}) as response:
                fetched = self._receive(response, conditional=bool(headers))
            if watchdog.expired:  # the body may have looked complete when its socket shut
                raise httpx.ReadTimeout("deadline")
            return fetched
        except (httpx.TransportError, httpx.TooManyRedirects) as error:
            if watchdog.expired or isinstance(error, httpx.TimeoutException):
                raise FetchError(f"timed out after {self.timeout:g}s") from None
            raise _transport_failure(url, error) from None
        finally:
            watchdog.cancel()

    def _receive(self, response: httpx.Response, *, conditional: bool) -> Fetched:
        status = response.status_code
        if status == 304:
            if not conditional:
                raise FetchError("304 Not Modified to a request that was not conditional",
                                 http_status=304)
            request = response.request.headers
            return Fetched(str(response.url), None, 304, request.get("If-None-Match"),
                           request.get("If-Modified-Since"), dict(response.headers))
        if status in RETRY_STATUSES:
            raise _Retryable(f"HTTP {status}", status, _retry_after(response))
        if status >= 400:
            raise FetchError(f"HTTP {status}", http_status=status)
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(self._too_big(int(declared)), http_status=status)
        encodings = _encodings(response.headers.get("Content-Encoding", ""))
        body = self._read(_decoded(response.iter_raw(), encodings), encodings, status)
        return Fetched(str(response.url), body, status, response.headers.get("ETag"),
                       response.headers.get("Last-Modified"), dict(response.headers))

    def _read(self, pieces: Iterable[bytes], encodings: list[str], status: int) -> bytes:
        """The body, refused once it passes ``max_bytes``; joined once at the end (one copy
        of a 4 MB body, not a growing buffer's)."""
        body: list[bytes] = []
        size = 0
        for piece in pieces:
            body.append(piece)
            size += len(piece)
            if size > self.max_bytes:
                decoded = f" once decoded ({', '.join(encodings)})" if encodings else ""
                raise FetchError(f"payload over the {self.max_bytes}-byte limit (max_payload)"
                                 f"{decoded}", http_status=status)
        return b"".join(body)

    def _too_big(self, size: int) -> str:
        return f"payload of {size} bytes is over the {self.max_bytes}-byte limit (max_payload)"

    def _fetch_file(self, url: str, *, last_modified: str | None) -> Fetched:
        path = Path(unquote(urlsplit(url).path))
        try:
            stat = path.stat()
            mtime = email.utils.format_datetime(
                dt.datetime.fromtimestamp(int(stat.st_mtime), dt.UTC), usegmt=True
            )
            if last_modified == mtime:
                return Fetched(url, None, None, None, mtime)
            if stat.st_size > self.max_bytes:
                raise FetchError(self._too_big(stat.st_size))
            return Fetched(url, path.read_bytes(), None, None, mtime)
        except OSError as error:
            raise FetchError(f"cannot read {path}: {error.strerror}") from None


class _Retryable(Exception):
    def __init__(self, reason: str, http_status: int | None, retry_after: float | None) -> None:
        self.reason = reason
        self.http_status = http_status
        self.retry_after = retry_after

    def final_reason(self, wait: float) -> str:
        """The reason once no retry is left, or the wait would outlast the fetch's deadline."""
        if self.retry_after is None or wait <= 0:
            return self.reason
        return f"{self.reason}, Retry-After {wait:.0f}s: retried at the next scheduled poll"


class _Watchdog:
    """Shuts down the sockets of one request once its deadline passes.

    httpx's timeouts are per operation, so a server sending a byte a second never trips them.
    httpcore reports each socket it opens to the ``trace`` extension; shutting a socket down
    from this timer's thread wakes a read blocked on it, which then fails (or ends).
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._streams: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        stream = info.get("return_value")
        if event.endswith(".complete") and hasattr(stream, "get_extra_info"):
            with self._lock:
                self._streams.append(stream)
                if self.expired:
                    _shut(stream)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for stream in self._streams:
                _shut(stream)


def _shut(stream: Any) -> None:
    with contextlib.suppress(Exception):
        socket.socket.shutdown(stream.get_extra_info("socket"), socket.SHUT_RDWR)


def _transport() -> httpx.BaseTransport:
    """httpx's own transport, one per scheme, each made at its first request: the TLS one
    loads the CA bundle (about 20 ms), which a fetch over plain http never needs. Each
    request opens its own connection, so the watchdog sees its socket."""
    import httpx

    class PerScheme(httpx.BaseTransport):
        def __init__(self) -> None:
            self._made: dict[bool, httpx.HTTPTransport] = {}

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            tls = request.url.scheme == "https"
            if tls not in self._made:
                # verify=False only where no TLS is ever spoken: plain http to its origin
                # (a proxy from the environment has its own transport, made by httpx).
                self._made[tls] = httpx.HTTPTransport(
                    verify=tls, limits=httpx.Limits(max_keepalive_connections=0))
            return self._made[tls].handle_request(request)

        def close(self) -> None:
            for made in self._made.values():
                made.close()

    return PerScheme()


def _refuse_other_schemes(response: httpx.Response) -> None:
    import httpx

    if not response.has_redirect_location:
        return
    location = response.headers["Location"]
    try:
        scheme = response.url.join(location).scheme
    except (httpx.InvalidURL, ValueError):
        return  # httpx refuses it with its own reason
    if scheme not in ("http", "https"):
        raise FetchError(f"redirect to {location!r} refused: only http and https",
                         http_status=response.status_code)


def _transport_failure(url: str, error: httpx.HTTPError) -> Exception:
    import httpx

    if isinstance(error, httpx.TooManyRedirects):
        return FetchError(f"more than {MAX_REDIRECTS} redirects (the last to "
                          f"{str(error.request.url)!r})")
    if isinstance(error, httpx.ConnectError):
        return _Retryable(f"cannot connect to {urlsplit(url).netloc}: {error}", None, None)
    if isinstance(error, httpx.UnsupportedProtocol):
        return FetchError(f"unsupported URL {url!r}: only http, https and file")
    return _Retryable(_describe(error), None, None)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _encodings(header: str) -> list[str]:
    """The Content-Encoding codings in the order they were applied; refuses unasked ones."""
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    for coding in codings:
        if coding not in _WBITS:
            raise FetchError(f"Content-Encoding {coding!r} was not asked for "
                             f"(Accept-Encoding: {ACCEPT_ENCODING})")
    return codings


def _decoded(raw: Iterable[bytes], encodings: list[str]) -> Iterable[bytes]:
    for coding in reversed(encodings):  # the last applied is undone first
        raw = _inflate(raw, coding)
    return raw


def _inflate(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """Undoes one coding, never producing more than ``_PIECE`` bytes per step."""
    inflater = zlib.decompressobj(_WBITS[coding])
    try:
        for chunk in chunks:
            data, full = chunk, False
            while data or full:  # full: zlib may still hold output for the last input
                if inflater.eof:
                    if not data:
                        break
                    if coding == "deflate":
                        raise FetchError("data after the end of the deflate stream")
                    inflater = zlib.decompressobj(_WBITS[coding])  # gzip: the next member
                piece = inflater.decompress(data, _PIECE)
                yield piece
                full = len(piece) == _PIECE
                data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        if not inflater.eof:
            raise FetchError(f"truncated {coding} data (Content-Encoding)")
    except zlib.error as error:
        raise FetchError(f"invalid {coding} data (Content-Encoding): {error}") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
