"""The claim language (DESIGN section 3): parsing, checking and normalizing one-line claims.

    claim     := metric op threshold window [dated] [where filter (and filter)*]

``parse(text, sources)`` returns a ``Claim`` or raises ``ClaimError`` with the column of the
problem and the known alternatives. ``Claim.normalized`` is the canonical text stored at
registration; parsing it again gives the same claim.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, cast

import sources as source_kinds
from resolver.errors import ClaimError
from resolver.filters import Filter, format_number, regex_problem
from resolver.periods import Period, date_problem, parse_period
from sources import Catalog
from sources.base import Unit

Basis: TypeAlias = Literal["result", "first-seen"]  # what dates a row for a window
OPERATORS = (">=", ">", "<=", "<")
METR_METHODS = {"1.1": "metr", "1.0": "metr-1-0"}
DEFAULT_METR_METHOD = "1.1"  # a constant of this release (DESIGN section 3)

_TOKEN = re.compile(
    r'(?P<space>\s+)|(?P<string>"(?:[^"\\]|\\.)*"?)|(?P<op>>=|<=|>|<|=|~)|(?P<word>[^\s"<>=~]+)'
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(%|min|h|x|pts)?$")
MAX_MINUTES = 1_000_000  # the largest horizon a source may state (DESIGN section 2)
_PLAIN_NUMBER = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)$")


@dataclass(frozen=True)
class Claim:
    benchmark: str
    method: str | None  # METR method ("1.0", "1.1"); None for other benchmarks
    op: str
    unit: Unit
    threshold: float | None  # absolute threshold in the unit; None when relative
    multiple: float | None  # N of "N x sota@DATE"
    sota_end: dt.date | None  # the end (exclusive) of DATE's period in "sota@DATE"
    start: dt.date | None  # None: from the beginning of time
    end: dt.date  # exclusive
    basis: Basis
    filters: tuple[Filter, ...]
    source: str
    row_filters: tuple[Filter, ...] = field(default=(), compare=False)

    @property
    def partition(self) -> str:
        """Claims with the same partition have the same state of the art at any moment."""
        filters = " and ".join(f.text for f in self.row_filters)
        return f"{self.benchmark}|{filters}|{self.basis}|{self.start or ''}|{self.end}"

    @property
    def last_day(self) -> dt.date:
        """The window's last day (its end is exclusive)."""
        return self.end - dt.timedelta(days=1)

    @property
    def sota_last_day(self) -> dt.date:
        assert self.sota_end is not None
        return self.sota_end - dt.timedelta(days=1)

    @property
    def crossing_is_yes(self) -> bool:
        return self.op in (">=", ">")

    def crosses(self, value: float, threshold: float) -> bool:
        """Whether ``value`` crosses: meets a >= / > claim, or breaks a < / <= claim."""
        if self.op == ">=":
            return value >= threshold
        if self.op == ">":
            return value > threshold
        if self.op == "<":
            return value >= threshold
        return value > threshold

    @property
    def metric(self) -> str:
        return f"{self.benchmark}@{self.method}" if self.method else self.benchmark

    @property
    def normalized(self) -> str:
        if self.multiple is not None:
            assert self.sota_end is not None
            threshold = f"{format_number(self.multiple)}x sota@{self.sota_last_day.isoformat()}"
        else:
            assert self.threshold is not None
            threshold = format_number(self.threshold) + ("" if self.unit == "pts" else self.unit)
        if self.start is None:
            window = f"by {self.last_day.isoformat()}"
        else:
            window = f"between {self.start.isoformat()} and {self.last_day.isoformat()}"
        text = f"{self.metric} {self.op} {threshold} {window} dated by {self.basis}"
        if self.filters:
            text += " where " + " and ".join(f.text for f in self.filters)
        return text


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


@dataclass
class _Token:
    kind: str
    text: str
    position: int


class _Parser:
    def __init__(self, text: str, catalog: Catalog) -> None:
        self.text = text
        self.catalog = catalog
        self.tokens = self._tokenize(text)
        self.index = 0
        self.sota_token: _Token | None = None

    def _tokenize(self, text: str) -> list[_Token]:
        tokens = []
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup or "word"
            if kind == "space":
                continue
            if kind == "string" and not _STRING.fullmatch(match.group()):
                raise ClaimError(text, match.start(), "unterminated string")
            tokens.append(_Token(kind, match.group(), match.start()))
        return tokens

    def error(self, problem: str, token: _Token | None = None) -> ClaimError:
        position = token.position if token else len(self.text)
        return ClaimError(self.text, position, problem)

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str) -> _Token:
        token = self.peek()
        if token is None:
            raise self.error(f"the claim ends early: expected {expected}")
        self.index += 1
        return token

    def take_word(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.index += 1
            return True
        return False

    # claim := metric op threshold window [dated] [where filter (and filter)*]
    def claim(self) -> Claim:
        if not self.tokens:
            raise self.error("empty claim; example: swe-bench-verified >= 85% by 2025-07-31")
        benchmark, method, metric_token = self.metric()
        op_token = self.take("an operator (>=, >, <=, <)")
        if op_token.text not in OPERATORS:
            raise self.error(f"expected an operator (>=, >, <=, <), found {op_token.text!r}",
                             op_token)
        unit = self.catalog.unit(benchmark)
        assert unit is not None  # metric() checked it
        threshold, multiple, sota_end = self.threshold(benchmark, unit)
        start, end = self.window()
        if sota_end is not None and sota_end > end:
            raise self.error("the baseline's date (sota@DATE) must not end after the window: "
                             "a claim cannot be measured against a state of the art that "
                             "comes later than its deadline", self.sota_token)
        basis = self.dated()
        filters = self.filters()
        if (token := self.peek()) is not None:
            raise self.error(f"unexpected {token.text!r} after the claim "
                             "(filters start with 'where' and are joined with 'and')", token)
        source = self.source(benchmark, method, filters, metric_token)
        self.check_filters(benchmark, source, filters)
        ordered = tuple(sorted(filters, key=lambda f: (f.name, f.text)))
        row_filters = [f for f in ordered if f.name != "source"]
        if method is not None:
            row_filters.insert(0, Filter("method", "=", method))
        return Claim(benchmark, method, op_token.text, unit, threshold, multiple, sota_end, start,
                     end, basis, ordered, source, tuple(row_filters))

    def metric(self) -> tuple[str, str | None, _Token]:
        token = self.take("a benchmark")
        name, _, method = token.text.partition("@")
        if self.catalog.unit(name) is None:
            known = ", ".join(self.catalog.ids())
            raise self.error(f"unknown benchmark {name!r}; known: {known}", token)
        if not name.startswith("metr-"):
            if method:
                raise self.error(f"only METR metrics take a method; {name} has none", token)
            return name, None, token
        method = method or DEFAULT_METR_METHOD
        if method not in METR_METHODS:
            raise self.error(f"unknown METR method {method!r}; known: 1.0, 1.1", token)
        return name, method, token

    def threshold(self, benchmark: str, unit: str) -> tuple[float | None, float | None,
                                                          dt.date | None]:
        token = self.take("a threshold")
        match = _NUMBER.match(token.text)
        if not match:
            raise self.error(f"expected a threshold such as {_example(unit)}, found "
                             f"{token.text!r}", token)
        number, suffix = float(match.group(1)), match.group(2)
        if not math.isfinite(number):
            raise self.error(f"the threshold {token.text!r} is not a finite number", token)
        if suffix is None and (nxt := self.peek()) is not None and nxt.text in ("%", "min", "h",
                                                                                 "x", "pts"):
            suffix = nxt.text
            self.index += 1
        if suffix == "x":
            sota_token = self.take("sota@DATE")
            if not sota_token.text.startswith("sota@"):
                raise self.error(f"expected sota@DATE after {token.text}", sota_token)
            period = parse_period(sota_token.text[5:])
            if period is None:
                raise self.error(date_problem(sota_token.text[5:]), sota_token)
            if number <= 0:
                raise self.error(f"a multiple of the state of the art must be above 0, not "
                                 f"{token.text}", token)
            self.sota_token = sota_token
            return None, number, period.end
        if unit == "pts":
            if suffix not in (None, "pts"):
                raise self.error(f"{benchmark} is measured in points: write a bare number, "
                                 f"such as {match.group(1)}", token)
            return number, None, None
        if suffix is None:
            raise self.error(f"the threshold needs a unit: {benchmark} is measured in "
                             f"{_unit_name(unit)}, e.g. {_example(unit)}", token)
        if unit == "%" and suffix != "%":
            raise self.error(f"{benchmark} is measured in percent: write {match.group(1)}%",
                             token)
        if unit == "min" and suffix == "%":
            raise self.error(f"{benchmark} is measured in time: write {match.group(1)}min or "
                             f"{match.group(1)}h", token)
        if suffix == "h":
            number *= 60
        if unit == "%" and number > 100:
            raise self.error(f"a percentage above 100 can never be reached: {token.text}",
                             token)
        if unit == "min" and number > MAX_MINUTES:
            raise self.error(f"a horizon above {MAX_MINUTES:,} minutes can never be recorded: "
                             f"{token.text}", token)
        return number, None, None

    def date(self) -> Period:
        token = self.take("a DATE (YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2 or YYYY)")
        period = parse_period(token.text)
        if period is None:
            raise self.error(date_problem(token.text), token)
        return period

    def window(self) -> tuple[dt.date | None, dt.date]:
        token = self.peek()
        if self.take_word("by"):
            return None, self.date().end
        if self.take_word("between"):
            first = self.date()
            and_token = self.peek()
            if not self.take_word("and"):
                raise self.error("expected 'and' between the two dates of the window", and_token)
            last_token = self.peek()
            last = self.date()
            if last.end <= first.start:
                raise self.error("empty window: the second date ends before the first begins",
                                 last_token)
            return first.start, last.end
        found = f", found {token.text!r}" if token else ""
        raise self.error(f"expected a window: 'by DATE' or 'between DATE and DATE'{found}", token)

    def dated(self) -> Basis:
        if not self.take_word("dated"):
            return "result"
        by_token = self.peek()
        if not self.take_word("by"):
            raise self.error("expected 'dated by result' or 'dated by first-seen'", by_token)
        basis = self.take("result or first-seen")
        if basis.text not in ("result", "first-seen"):
            raise self.error(f"unknown date basis {basis.text!r}; known: result, first-seen",
                             basis)
        return cast(Basis, basis.text)

    def filters(self) -> list[Filter]:
        if not self.take_word("where"):
            return []
        filters = [self.filter()]
        while self.take_word("and"):
            filters.append(self.filter())
        return filters

    def filter(self) -> Filter:
        """One filter: a flag (``checked``), a comparison (``steps <= 50``), a text match
        (``org = "..."``, any text attribute a source states), ``model ~ "regex"`` or
        ``source = NAME``. Whether the claim's source states it is checked once the source is
        known (``check_filters``)."""
        token = self.take("a filter")
        name = token.text.lower()
        if token.kind != "word" or not _FILTER_WORD.fullmatch(name):
            raise self.error(f"expected a filter, found {token.text!r}", token)
        op = self.peek()
        if op is None or op.kind != "op":
            return Filter(name, position=token.position)  # a flag
        self.index += 1
        if name == "model" and op.text != "~":
            raise self.error(f"model takes '~', found {op.text!r}", op)
        if name != "model" and op.text == "~":
            raise self.error(f"only model takes '~' (a regular expression); {name} takes "
                             "'=' or a comparison", op)
        value = self.take("a value")
        if name == "source":
            if op.text != "=" or value.kind != "word":
                raise self.error("source takes a source name, such as source = epoch-hub",
                                 value)
            return Filter(name, "=", value.text, value.position)
        if value.kind == "word" and _PLAIN_NUMBER.match(value.text):
            if not math.isfinite(float(value.text)):
                raise self.error(f"{name} compares with a number, found {value.text!r}", value)
            return Filter(name, op.text, float(value.text), token.position)
        if value.kind != "string":
            if name in _NUMERIC_FILTERS:
                raise self.error(f"{name} compares with a number, found {value.text!r}", value)
            raise self.error(f'{name} takes a double-quoted string, e.g. {name} {op.text} '
                             '"..."', value)
        if op.text not in ("=", "~"):
            raise self.error(f"{name} compares text with '=', not {op.text!r}", op)
        text = _unquote(value.text)
        if name == "model" and (problem := regex_problem(text)):
            raise self.error(problem, value)
        return Filter(name, op.text, text, token.position)

    def source(self, benchmark: str, method: str | None, filters: list[Filter],
               metric_token: _Token) -> str:
        named = [f for f in filters if f.name == "source"]
        if len(named) > 1:
            raise ClaimError(self.text, named[1].position,
                             "a claim reads one source; 'source =' is given twice")
        if named:
            name = str(named[0].value)
            if self.catalog.source(name) is None:
                known = ", ".join(self.catalog.names())
                raise ClaimError(self.text, named[0].position,
                                 f"unknown source {name!r}; known: {known}")
            if self.catalog.benchmark(benchmark, name) is None:
                raise ClaimError(self.text, named[0].position,
                                 f"source {name} has no benchmark {benchmark}")
            return name
        if method is not None:
            return METR_METHODS[method]
        primary = self.catalog.primary(benchmark)
        if primary is None:  # pragma: no cover - metric() checked the benchmark
            raise self.error(f"no source yields {benchmark}", metric_token)
        return primary

    def check_filters(self, benchmark: str, source: str, filters: list[Filter]) -> None:
        found = self.catalog.benchmark(benchmark, source)
        where = "" if source == self.catalog.primary(benchmark) else f" on {source}"
        known = {a for s in self.catalog.sources for b in s.benchmarks for a in b.attributes}
        for f in filters:
            problem = f.problem(dict(found.attributes) if found else {}, f"{benchmark}{where}",
                                known)
            if problem:
                raise ClaimError(self.text, f.position, problem)


_NUMERIC_FILTERS = ("steps",)
_FILTER_WORD = re.compile(r"[a-z][a-z0-9@]*(?:-[a-z0-9@]+)*")


def _unit_name(unit: str) -> str:
    return {"%": "percent", "min": "minutes or hours"}.get(unit, "points (a bare number)")


def _example(unit: str) -> str:
    return {"%": "85%", "min": "480min or 8h"}.get(unit, "160")


SourceKinds: TypeAlias = Catalog  # what every configured source yields


@functools.lru_cache(maxsize=262144)
def parse_cached(text: str, catalog: Catalog) -> Claim:
    """Claims are immutable, so a process parses each normalized claim once."""
    return parse(text, catalog)


def parse(text: str, catalog: Catalog | None = None) -> Claim:
    """Parse and check a claim against what the configured sources yield (default: the
    built-in sources)."""
    return _Parser(text, catalog or source_kinds.builtin_catalog()).claim()
