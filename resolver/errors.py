"""The one error root of resolver, caught once at the CLI boundary.

::

    ResolverError             a mistake a user can make, or a condition they must know about
    │                         (a --at or date that is not one, a poll that would go back in
    │                         time, a digest file that cannot be written)
    ├── ClaimError            a claim that does not parse or names what does not exist
    ├── ConfigError           a bad setting or settings file (at start)
    ├── RegistrationError     a prediction or predictions file that cannot be registered
    └── NotFound              a prediction or snapshot that is not in the store

The CLI prints ``str(error)`` on one line and exits 1 (``--verbose`` shows the traceback).

``sources`` and ``state`` do not import ``resolver``, so their errors stand outside this tree
and are turned into it (or into a recorded failure) where they are handled::

    sources.base.PayloadError       a payload that cannot be used  -> a failed fetch (poller)
    sources.fetch.FetchError        a payload that could not be had -> a failed fetch (poller)
    sources.UnknownKind (KeyError)  a kind not in the registry      -> ConfigError (settings)
    state.db.StoreError             a store that cannot be opened or written -> one line (CLI)
    state.payloads.UnknownSnapshot  a snapshot not archived         -> NotFound (CLI)
    state.predictions.OutOfOrder    an event that would go back in time: a bug, refused
"""

from __future__ import annotations


class ResolverError(Exception):
    pass


class ClaimError(ResolverError):
    def __init__(self, claim: str, position: int, problem: str) -> None:
        self.claim = claim
        self.position = position
        self.problem = problem
        super().__init__(f"claim {claim!r}, column {position + 1}: {problem}")


class ConfigError(ResolverError):
    pass


class RegistrationError(ResolverError):
    pass


class NotFound(ResolverError):
    pass
