"""The cycle collector while a command starts. Until the settings are loaded a command only
imports and builds what lives as long as the process (modules, classes, pydantic schemas), so
the collector stays off until then (about a hundred collections that find nothing: some 15 ms
of an unchanged poll) and is on as before once they are loaded."""

from __future__ import annotations

import gc

_paused: list[bool] = []  # [True] while the start holds the collector off


def begin(*, collector: bool | None = None) -> None:
    """``collector``: whether it was on before the caller turned it off (``python -m
    resolver`` does, before importing the command line); default: whether it is on now."""
    if collector if collector is not None else gc.isenabled():
        gc.disable()
        _paused[:] = [True]


def end() -> None:
    """The collector back on, if ``begin`` turned it off (at most once)."""
    if _paused:
        _paused.clear()
        # What the start made lives as long as the process: frozen, no collection walks it
        # again (without this the first one after the start walks it all, ~18 ms).
        gc.freeze()
        gc.enable()
