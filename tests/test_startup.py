"""Commands import what they use (DESIGN section 10): what a command leaves in ``sys.modules``
as a whole process, the cycle collector during a start, and the shortcuts taken meanwhile.
Behaviour, not timings: the timings are bench/process.py's."""

from __future__ import annotations

import dataclasses
import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resolver import cli_startup
from resolver.schedule import cron_fields, trigger
from resolver.settings import DIGEST_CRON, Settings
from state import chain
from state.records import Event, Evidence, LateEvidence, Settlement

ROOT = Path(__file__).resolve().parent.parent
# Loaded by a network fetch, a store's creation or upgrade, a payload of one kind, the daemon.
HEAVY = ("httpx", "httpcore", "sqlite_utils", "jmespath", "python_calamine", "yaml",
         "feedparser", "apscheduler", "resolver.trend", "resolver.lifecycle")
_PROBE = ("import atexit, runpy, sys\n"
          "atexit.register(lambda: print(' '.join(sorted(sys.modules)), file=sys.stderr))\n"
          "sys.argv = ['resolver', *sys.argv[1:]]\n"
          "runpy.run_module('resolver', run_name='__main__')\n")


def modules_after(state: Path, *args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOLVER_")}
    env["RESOLVER_STATE_DIR"] = str(state)
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr.splitlines()[:-1]
    return set(done.stderr.strip().splitlines()[-1].split())


def test_help_imports_neither_settings_nor_the_store(tmp_path: Path) -> None:
    loaded = modules_after(tmp_path, "--help")
    assert not loaded & {*HEAVY, "pydantic", "pydantic_settings", "sqlite3", "resolver.settings"}


def test_predict_list_and_show_import_no_fetching_parsing_or_store_creation(
        tmp_path: Path) -> None:
    modules_after(tmp_path, "sources")  # creates the store (sqlite-utils) once
    for args in (("predict", "list"), ("predict", "list", "--status", "open")):
        loaded = modules_after(tmp_path, *args)
        assert "resolver.report" in loaded
        assert not loaded & set(HEAVY), args


def test_start_pauses_the_collector_until_the_settings_are_loaded() -> None:
    assert gc.isenabled()
    try:
        gc.unfreeze()
        cli_startup.begin()
        assert not gc.isenabled()
        cli_startup.end()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what the start made is never walked again
        cli_startup.end()  # at most once
        assert gc.isenabled()
        gc.disable()
        cli_startup.begin()  # it was off already: it stays off
        cli_startup.end()
        assert not gc.isenabled()
        cli_startup.begin(collector=True)  # python -m resolver turned it off
        cli_startup.end()
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_default_digest_cron_is_valid_without_being_checked() -> None:
    assert Settings.model_fields["digest_cron"].default == DIGEST_CRON
    assert trigger(cron_fields(DIGEST_CRON), "UTC") is not None


def test_the_version_events_record_is_read_once() -> None:
    assert chain.version() == chain.VERSION
    with pytest.raises(AttributeError):
        chain.NOT_A_NAME  # noqa: B018


@pytest.mark.parametrize("record", [
    Evidence("s", "b", "k", "subject", 1.5, 2, "2025-01-01", "2025-01-02T00:00:00Z", "u", "h"),
    Settlement("a", "b", "$1", "a", "b"),
])
def test_to_json_is_every_field(record: object) -> None:
    assert record.to_json() == dataclasses.asdict(record)  # type: ignore[attr-defined]


def test_event_to_json_is_every_field() -> None:
    evidence = LateEvidence(None, "2025-01-01T00:00:00Z", None)
    event = Event(1, "p", 1, "status", "open", "provisional", "no", "2025-01-01T00:00:00Z",
                  "2025-01-01T00:00:01Z", "late", evidence, None)
    expected = dataclasses.asdict(event)
    expected["evidence"] = evidence.to_json()
    assert event.to_json() == expected
    assert list(event.to_json()) == [f.name for f in dataclasses.fields(Event)]


def test_the_registry_names_each_kind_by_its_own_name() -> None:
    import sources

    assert [k.name for k in sources.registry()] == list(sources.KINDS)
    assert sources.builtin("epoch-hub").benchmarks  # type: ignore[union-attr]


def test_settings_as_shipped_import_no_kind_until_one_is_used(tmp_path: Path) -> None:
    probe = ("import sys\nfrom resolver import settings\nloaded = settings.load()\n"
             "print(sorted(m for m in sys.modules if m.startswith('sources.')))\n"
             "loaded.kinds\nprint('sources.epoch_zip' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOLVER_")}
    env.update(RESOLVER_STATE_DIR=str(tmp_path),
               RESOLVER_SOURCES__SWE_BENCH__URL="http://127.0.0.1:9/x.json")
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, text=True,
                          capture_output=True, check=True, timeout=60)
    before, after = done.stdout.splitlines()
    assert before == "['sources.base', 'sources.catalog', 'sources.kinds']"
    assert after == "True"
