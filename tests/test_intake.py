"""Registration over HTTP (DESIGN section 13): resolver.intake.register_json, called directly
and over a real loopback HTTP server, with every status and nothing written on a refusal."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from resolver.intake import MAX_BODY, register_json
from resolver.settings import Settings, load
from state.db import Database, open_db
from tests.conftest import Cli

TOKEN = "s3cret-token"
ENTRY = {"id": "swe-90", "claim": "swe-bench-verified >= 90% by 2026-12-31",
         "title": "Agents reach 90%", "author": "Ann", "url": "https://example.org/a",
         "probability": 0.4, "made": "2026-01-15"}


@pytest.fixture
def settings(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RESOLVER_API_TOKEN", TOKEN)
    return load()


@pytest.fixture
def db(settings: Settings) -> Database:
    return open_db(settings.state_dir)


def body(entry: Any) -> bytes:
    return json.dumps(entry).encode()


def stored(db: Database) -> tuple[object, ...]:
    """Everything a registration could write."""
    return (db.execute("SELECT * FROM predictions").fetchall(),
            db.execute("SELECT * FROM events").fetchall())


def test_off_while_api_token_is_unset(state_dir: Path) -> None:
    settings = load()
    db = open_db(settings.state_dir)
    status, answer = register_json(db, settings, body(ENTRY), f"Bearer {TOKEN}")
    assert status == 404 and "api_token" in answer["error"]
    assert stored(db) == ([], [])
    empty = load({"RESOLVER_STATE_DIR": str(state_dir), "RESOLVER_API_TOKEN": ""})
    assert register_json(db, empty, body(ENTRY), "Bearer ")[0] == 404


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}",
                                           f"Bearer {TOKEN}x", "Bearer sécret"])
def test_a_missing_or_wrong_token_is_401(db: Database, settings: Settings,
                                         authorization: str | None) -> None:
    assert register_json(db, settings, body(ENTRY), authorization)[0] == 401
    assert stored(db) == ([], [])


def test_refusals_write_nothing(db: Database, settings: Settings, cli: Cli) -> None:
    auth = f"Bearer {TOKEN}"
    big = body({**ENTRY, "quote": "x" * MAX_BODY})
    assert register_json(db, settings, big, auth)[0] == 413
    for bad in (b"{", b"[1, 2]", b"\xff\xfe", body("text"), b"[" * 60_000):
        status, answer = register_json(db, settings, bad, auth)
        assert status == 400 and "JSON object" in answer["error"]
    status, answer = register_json(db, settings, body({**ENTRY, "notify": ["json://x"]}), auth)
    assert status == 400 and "'notify' cannot be registered over HTTP" in answer["error"]
    status, answer = register_json(db, settings, body({**ENTRY, "url": "javascript:alert(1)"}),
                                   auth)
    assert status == 400 and "'url' must be an http: or https: link" in answer["error"]
    # A bad claim: the same one line as the CLI's.
    claim = "swe-bench-verified >= 90 by 2026-12-31"
    status, answer = register_json(db, settings, body({"id": "x", "claim": claim}), auth)
    line = cli("predict", "add", claim, "--id", "x", expect=1).output.strip()
    assert status == 400 and line == f"error: {answer['error']}"
    assert "\n" not in answer["error"]
    assert stored(db) == ([], [])


def test_201_with_the_stored_prediction_then_409_for_another_claim(
        db: Database, settings: Settings, cli: Cli) -> None:
    auth = f"Bearer {TOKEN}"
    status, answer = register_json(db, settings, body(ENTRY), auth)
    assert status == 201
    [listed] = json.loads(cli("predict", "list", "--json").output)
    assert answer == listed
    assert answer["id"] == "swe-90" and answer["author"] == "Ann" and answer["made"] == "2026-01-15"
    # The same entry again is fine (201); a new title updates it, as in a predictions file.
    assert register_json(db, settings, body({**ENTRY, "title": "New"}), auth)[0] == 201
    before = stored(db)
    other = {**ENTRY, "claim": "swe-bench-verified >= 95% by 2026-12-31"}
    status, answer = register_json(db, settings, body(other), auth)
    assert status == 409 and "already registered with claim" in answer["error"]
    status, answer = register_json(db, settings, body({**ENTRY, "probability": 0.9}), auth)
    assert status == 409 and "'probability' cannot change" in answer["error"]
    assert stored(db) == before


# -- over HTTP: the do_POST the daemon's page uses -------------------------------------------


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the same code resolver/web.py runs
            if self.path.split("?", 1)[0] != "/api/predictions":
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(min(length, MAX_BODY + 1))
            db = open_db(settings.state_dir)
            try:
                status, answer = register_json(db, settings, data,
                                               self.headers.get("Authorization"))
            finally:
                db.conn.close()
            payload = json.dumps(answer, allow_nan=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status == 413:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api/predictions"
    httpd.shutdown()
    httpd.server_close()


def post(url: str, data: bytes, token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_every_status_over_http(server: str, db: Database) -> None:
    assert post(server, body(ENTRY), None)[0] == 401
    assert post(server, body(ENTRY), "wrong")[0] == 401
    assert post(server, body({**ENTRY, "quote": "x" * MAX_BODY}), TOKEN)[0] == 413
    assert post(server, b"not json", TOKEN)[0] == 400
    assert post(server, body({**ENTRY, "notify": ["json://x"]}), TOKEN)[0] == 400
    assert stored(db) == ([], [])
    status, answer = post(server, body(ENTRY), TOKEN)
    assert status == 201 and answer["claim"].startswith("swe-bench-verified >= 90%")
    other = {**ENTRY, "claim": "swe-bench-verified >= 95% by 2026-12-31"}
    assert post(server, body(other), TOKEN)[0] == 409
    assert [row[0] for row in db.execute("SELECT id FROM predictions")] == ["swe-90"]


def test_the_daemons_page_registers_over_http(state_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """POST /api/predictions on the daemon's own page: the statuses of DESIGN 13, with the
    security headers, and nothing written on a refusal."""
    import httpx

    from resolver.settings import load
    from resolver.web import Page

    monkeypatch.setenv("RESOLVER_API_TOKEN", "s3cret")
    page = Page(load())
    page.start()
    try:
        url = f"http://127.0.0.1:{page.port}/api/predictions"
        entry = {"id": "swe-90", "claim": "swe-bench-verified >= 90% by 2026-12-31"}
        refused = httpx.post(url, json=entry, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert refused.headers["X-Content-Type-Options"] == "nosniff"
        bad = httpx.post(url, json={"id": "x", "claim": "swe-bench-verified >= 90 by 2026"},
                         headers={"Authorization": "Bearer s3cret"})
        assert bad.status_code == 400 and "needs a unit" in bad.text
        made = httpx.post(url, json=entry, headers={"Authorization": "Bearer s3cret"})
        assert made.status_code == 201
        assert made.json()["claim"] == "swe-bench-verified >= 90% by 2026-12-31 dated by result"
        other = httpx.post(url, json={**entry, "claim": "swe-bench-verified >= 95% by 2026"},
                           headers={"Authorization": "Bearer s3cret"})
        assert other.status_code == 409
        assert httpx.post(f"http://127.0.0.1:{page.port}/elsewhere",
                          headers={"Authorization": "Bearer s3cret"}).status_code == 405
    finally:
        page.stop()
