"""The one error root of resolver, caught once at the CLI boundary.

::

    ResolverError             a mistake a user can make or a condition they must know about
    ├── ClaimError            a claim that does not parse or names what does not exist
    ├── ConfigError           a bad setting or predictions file
    ├── RegistrationError     a prediction that cannot be registered as given
    └── NotFound              an id, digest or snapshot that is not in the store

The CLI prints ``str(error)`` on one line and exits 1 (``--verbose`` shows the traceback).
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
