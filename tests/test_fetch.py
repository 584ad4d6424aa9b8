"""The fetcher against a real loopback HTTP server: conditional GET, retries, faults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sources.fetch import Fetcher, FetchError
from tests.server import FixtureServer

BODY = b'{"leaderboards": []}'
_made: list[Fetcher] = []


@pytest.fixture(autouse=True)
def _close_fetchers() -> Iterator[None]:
    yield
    while _made:
        _made.pop().close()


def make(sleeps: list[float] | None = None, **options: object) -> Fetcher:
    waits = sleeps if sleeps is not None else []
    fetcher = Fetcher(user_agent="resolver-test/1", backoff=0.01, sleep=waits.append,
                      **options)  # type: ignore[arg-type]
    _made.append(fetcher)
    return fetcher


def test_conditional_get_and_not_modified(http: FixtureServer) -> None:
    url = http.serve("/data.json", BODY)
    fetcher = make()
    first = fetcher.fetch(url)
    assert first.body == BODY and first.etag and first.http_status == 200
    assert first.last_modified == "Wed, 10 Dec 2025 04:08:00 GMT"
    second = fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.http_status == 304
    sent = http.hits("/data.json")[1]["headers"]
    assert sent["If-None-Match"] == first.etag
    assert sent["User-Agent"] == "resolver-test/1"


def test_5xx_is_retried_with_backoff(http: FixtureServer) -> None:
    url = http.serve("/flaky.json", BODY, faults=["status:500", "status:503"])
    sleeps: list[float] = []
    assert make(sleeps).fetch(url).body == BODY
    assert sleeps == [0.01, 0.02]
    assert len(http.hits("/flaky.json")) == 3


def test_429_honours_retry_after(http: FixtureServer) -> None:
    url = http.serve("/limited.json", BODY, faults=["429:7"])
    sleeps: list[float] = []
    assert make(sleeps).fetch(url).body == BODY
    assert sleeps == [7.0]


def test_persistent_5xx_fails_after_three_attempts(http: FixtureServer) -> None:
    url = http.serve("/down.json", BODY, faults=["status:502"] * 3)
    with pytest.raises(FetchError) as error:
        make().fetch(url)
    assert error.value.reason == "HTTP 502" and error.value.http_status == 502
    assert len(http.hits("/down.json")) == 3


def test_404_is_not_retried(http: FixtureServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        make().fetch(http.url("/missing.json"))
    assert len(http.hits("/missing.json")) == 1


def test_timeout(http: FixtureServer) -> None:
    url = http.serve("/slow.json", BODY, faults=["sleep:1.5"] * 2)
    with pytest.raises(FetchError, match=r"timed out after 0\.3s"):
        make(timeout=0.3, attempts=2).fetch(url)


def test_truncated_body_is_an_error_not_a_payload(http: FixtureServer) -> None:
    url = http.serve("/cut.json", BODY * 100, faults=["truncate"] * 3)
    with pytest.raises(FetchError, match="RemoteProtocolError"):
        make().fetch(url)


def test_truncated_once_then_whole(http: FixtureServer) -> None:
    url = http.serve("/cut-once.json", BODY * 100, faults=["truncate"])
    assert make().fetch(url).body == BODY * 100


def test_size_cap(http: FixtureServer) -> None:
    url = http.serve("/big.json", b"x" * 5000)
    with pytest.raises(FetchError, match="over the 1000-byte limit"):
        make(max_bytes=1000).fetch(url)


def test_304_to_an_unconditional_request_is_an_error(http: FixtureServer) -> None:
    url = http.serve("/liar.json", BODY, faults=["304"])
    with pytest.raises(FetchError, match="not conditional"):
        make().fetch(url)


def test_redirects_are_followed(http: FixtureServer) -> None:
    target = http.serve("/new-home.json", BODY)
    http.serve("/old-home.json", b"", faults=["redirect:" + target])
    fetched = make().fetch(http.url("/old-home.json"))
    assert fetched.body == BODY and fetched.url == target


def test_file_url_with_mtime_as_last_modified(tmp_path: Path) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(BODY)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    fetcher = make()
    first = fetcher.fetch(path.as_uri())
    assert first.body == BODY and first.last_modified == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert fetcher.fetch(path.as_uri(), last_modified=first.last_modified).not_modified
    with pytest.raises(FetchError, match="cannot read"):
        fetcher.fetch((tmp_path / "absent.json").as_uri())


def test_the_tests_cannot_reach_the_internet() -> None:
    with pytest.raises(FetchError, match="tests do not reach the internet"):
        make(attempts=1).fetch("https://metr.org/feed.xml")


def test_a_refused_connection_names_the_host() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(FetchError, match=rf"^cannot connect to 127\.0\.0\.1:{port}: "):
        make(attempts=2).fetch(f"http://127.0.0.1:{port}/leaderboards.json")


def test_plain_http_never_makes_the_tls_transport(http: FixtureServer) -> None:
    """The TLS transport loads the CA bundle (tens of ms of a whole process); plain http to
    its origin does not need it. https gets httpx's own, verifying, transport."""
    url = http.serve("/plain.json", BODY)
    fetcher = make()
    assert fetcher.fetch(url).body == BODY
    transport = fetcher._client_()._transport
    assert list(transport._made) == [False]  # type: ignore[attr-defined]
    assert transport._made[False]._pool._ssl_context is not None  # type: ignore[attr-defined]
