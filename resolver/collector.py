"""Pausing the cycle collector while a poll or an index build runs: they allocate hundreds of
thousands of acyclic objects, and left on, the collector would walk everything the process
holds several times over. Polls run in threads at once, so the pause is counted: off at the
first, back on after the last, if it was on."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()
_pauses = [0, False]  # pauses running now; whether the collector was on before the first


@contextlib.contextmanager
def paused() -> Iterator[None]:
    with _LOCK:
        if _pauses[0] == 0:
            _pauses[1] = gc.isenabled()
            gc.disable()
        _pauses[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _pauses[0] -= 1
            if _pauses[0] == 0 and _pauses[1]:
                gc.enable()
