"""Registration over HTTP (DESIGN section 13): ``POST /api/predictions`` with one
``[[prediction]]`` entry as a JSON object and ``Authorization: Bearer <api_token>``.

It goes through the same code as ``predict add`` (``register.build`` then ``register.save``),
so a bad entry gets the same one-line message. The answers:

    404  registration over HTTP is off (``api_token`` unset)
    401  a missing or wrong token (compared in constant time)
    413  a body over 64 KB
    400  not a JSON object, a bad entry, an entry with ``notify``, a ``url`` not http(s)
    409  the id is registered with another claim (or another immutable field)
    201  the stored prediction, as ``predict list --json`` shows it

Nothing is written on a refusal: ``register.save`` is one transaction.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from resolver import clock, register
from resolver.errors import RegistrationError
from resolver.settings import Settings
from state import predictions as store
from state.db import Database
from state.records import JSON

MAX_BODY = 64 * 1024


def register_json(db: Database, settings: Settings, body: bytes,
                  authorization: str | None) -> tuple[int, JSON]:
    """Register the entry in ``body``: (HTTP status, JSON object to answer with)."""
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if not token:
        return 404, {"error": "not found: registration over HTTP is off (api_token is unset)"}
    if not authorized(token, authorization):
        return 401, {"error": "a valid 'Authorization: Bearer <api_token>' header is required"}
    if len(body) > MAX_BODY:
        return 413, {"error": f"the body is over the {MAX_BODY:,}-byte limit"}
    entry = _entry(body)
    if isinstance(entry, str):
        return 400, {"error": entry}
    try:
        prediction = register.build(settings, entry)
    except RegistrationError as error:
        return 400, {"error": str(error)}
    try:
        register.save(db, [register.Registration(prediction, "")], sources=settings.kinds)
    except RegistrationError as error:  # build checked the entry: a conflict with the store
        return 409, {"error": str(error)}
    return 201, stored(db, settings, prediction.id)


def authorized(token: str, authorization: str | None) -> bool:
    """``Bearer <token>``, the token compared in constant time."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8"))


def _entry(body: bytes) -> dict[str, Any] | str:
    """The entry as a dict, or why it is refused (400)."""
    try:
        entry = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "the body must be one prediction entry as a JSON object (UTF-8)"
    if not isinstance(entry, dict):
        return "the body must be one prediction entry as a JSON object"
    if "notify" in entry:
        return ("'notify' cannot be registered over HTTP (a token holder must not make the "
                "daemon call arbitrary URLs): add it in a predictions file")
    return entry


def stored(db: Database, settings: Settings, prediction_id: str) -> JSON:
    """The prediction as ``predict list --json`` shows it."""
    from resolver.report import summary
    from resolver.sota import Views
    from resolver.trend import Trends

    p = store.get(db, prediction_id)
    assert p is not None
    views = Views(db, clock.now())
    return summary(db, p, views, settings.kinds, Trends(views))
