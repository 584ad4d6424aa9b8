"""The filters of a claim (``where checked and steps <= 50 and model ~ "gpt"``), how a row
satisfies them, and how numbers and strings are written in a normalized claim."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MAX_REGEX = 200  # the longest `model ~ "regex"` a claim may give (DESIGN section 3)
HIDDEN = ("method", "runs")  # attributes rows state, but not filters a claim writes
_KIND_WORDS = {"flag": "yes/no", "number": "numeric", "text": "text"}


@dataclass(frozen=True)
class Filter:
    name: str
    op: str | None = None  # None for flags
    value: str | float | None = None
    position: int = field(default=0, compare=False)  # where it was written in the claim

    @property
    def text(self) -> str:
        if self.op is None:
            return self.name
        if isinstance(self.value, float):
            return f"{self.name} {self.op} {format_number(self.value)}"
        if self.name == "source":
            return f"source = {self.value}"
        return f"{self.name} {self.op} {quote(str(self.value))}"

    def problem(self, attributes: Mapping[str, type], benchmark: str,
                known: set[str]) -> str | None:
        """Why this filter cannot apply to ``benchmark``, whose rows state ``attributes``
        (name -> type), or None: a flag needs a yes/no attribute, a comparison a numeric one,
        ``=`` with text a text one. ``known`` are the attributes any source states."""
        if self.name in ("model", "source"):
            return None
        has = ", ".join(a for a in attributes if a not in HIDDEN) or "none"
        kind = attributes.get(self.name) if self.name not in HIDDEN else None
        if kind is None:
            if self.name in known:
                return f"{benchmark} has no attribute {self.name!r}; it has {has}"
            return (f"unknown filter {self.name!r}: {benchmark} has no such attribute; it has "
                    f"{has}")
        wanted = "flag" if kind is bool else "number" if kind in (int, float) else "text"
        written = ("flag" if self.op is None else "number" if isinstance(self.value, float)
                   else "text")
        if wanted == written:
            return None
        how = {"flag": self.name, "number": f"{self.name} <= N",
               "text": f'{self.name} = "..."'}[wanted]
        return f"{self.name} is a {_KIND_WORDS[wanted]} attribute: write {how}"

    def matches(self, attributes: Mapping[str, Any], subject: str) -> bool:
        """Whether a row satisfies this filter. An unknown attribute never does."""
        if self.name == "source":
            return True
        if self.name == "model":
            return _regex(str(self.value)).search(subject) is not None
        stated = attributes.get(self.name)
        if stated is None:
            return False
        if self.op is None:
            return stated is True
        if isinstance(self.value, float):
            if isinstance(stated, bool) or not isinstance(stated, int | float):
                return False
            return _compare(float(stated), self.op, self.value)
        return str(stated).casefold() == str(self.value).casefold()


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a claim's ``model ~`` regex, or None."""
    if len(pattern) > MAX_REGEX:
        return f"the regular expression is longer than {MAX_REGEX} characters"
    try:
        re.compile(pattern, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        return f"invalid regular expression: {error}"
    return None


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        compiled = _REGEX_CACHE[pattern] = re.compile(pattern, re.IGNORECASE)
    return compiled


def _compare(left: float, op: str, right: float) -> bool:
    if op == ">=":
        return left >= right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    if op == "<":
        return left < right
    return left == right


def format_number(value: float) -> str:
    """The shortest round-trip decimal in positional notation (``0.00001``, never ``1e-05``),
    without a trailing ``.0``."""
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
