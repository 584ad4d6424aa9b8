"""``settings.load(env)`` reads the mapping it is given and leaves os.environ alone (another
thread may be reading it)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from resolver.settings import load


def test_load_reads_the_given_environment_only(tmp_path: Path, state_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVER_LOG_JSON", "1")
    monkeypatch.setenv("RESOLVER_HTTP_PORT", "9999")
    settings = load({"RESOLVER_STATE_DIR": str(tmp_path), "RESOLVER_HTTP_PORT": "1234"})
    assert (settings.log_json, settings.http_port, settings.state_dir) == (False, 1234, tmp_path)
    assert load().log_json is True  # without a mapping: the process environment


def test_load_never_swaps_os_environ(tmp_path: Path, state_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVER_MARKER_SEEN_BY_OTHERS", "x")
    missing = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            if os.environ.get("RESOLVER_MARKER_SEEN_BY_OTHERS") != "x":
                missing.append(1)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(200):
            load({"RESOLVER_STATE_DIR": str(tmp_path)})
    finally:
        stop.set()
        thread.join()
    assert missing == []
