"""Fetching a source's payload: HTTP(S) through httpx, or ``file://`` from disk.

The fetcher knows nothing about sources' formats. It returns the raw bytes with the
validators needed for the next conditional request, or ``not_modified`` for a 304.

Errors::

    FetchError            the payload could not be obtained; ``reason`` says why
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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
    timeout: float = 30.0
    max_bytes: int = 64 * 1024 * 1024
    attempts: int = 3
    backoff: float = 2.0  # seconds before the first retry; doubles after each
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    _client: httpx.Client | None = field(default=None, init=False, repr=False)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        if url.startswith("file:"):
            return self._fetch_file(url, last_modified=last_modified)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return self._get(url, headers, conditional=bool(headers))
            except _Retryable as retry:
                if attempt == self.attempts:
                    raise FetchError(retry.reason, http_status=retry.http_status) from None
                wait = delay
                if retry.retry_after is not None:
                    wait = min(retry.retry_after, self.max_retry_after)
                self.sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _client_(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout,
                follow_redirects=True,
                headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
            )
        return self._client

    def _get(self, url: str, headers: dict[str, str], *, conditional: bool) -> Fetched:
        try:
            with self._client_().stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status == 304:
                    if not conditional:
                        raise FetchError("304 Not Modified to a request that was not conditional",
                                         http_status=304)
                    return Fetched(url, None, 304, headers.get("If-None-Match"),
                                   headers.get("If-Modified-Since"), dict(response.headers))
                if status in RETRY_STATUSES:
                    raise _Retryable(f"HTTP {status}", status, _retry_after(response))
                if status >= 400:
                    raise FetchError(f"HTTP {status}", http_status=status)
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(self._too_big(int(declared)), http_status=status)
                chunks = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(self._too_big(size), http_status=status)
                    chunks.append(chunk)
                return Fetched(
                    str(response.url),
                    b"".join(chunks),
                    status,
                    response.headers.get("ETag"),
                    response.headers.get("Last-Modified"),
                    dict(response.headers),
                )
        except httpx.TimeoutException:
            raise _Retryable(f"timed out after {self.timeout:g}s", None, None) from None
        except httpx.ConnectError as error:
            host = urlsplit(url).netloc
            raise _Retryable(f"cannot connect to {host}: {error}", None, None) from None
        except httpx.TransportError as error:
            raise _Retryable(f"{type(error).__name__}: {error}", None, None) from None
        except httpx.InvalidURL as error:
            raise FetchError(f"invalid URL: {error}") from None

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


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
