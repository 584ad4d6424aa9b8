"""What ``resolver.cli`` puts in ``ctx.obj`` for the commands defined in other modules
(``cli_trend``, ``cli_verify``, ``cli_site``, ``cli_backup``): settings and the store, opened on
first use. A Protocol, so those modules do not import ``resolver.cli`` (no import cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from resolver.settings import Settings
    from state.db import Database


class Context(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...
