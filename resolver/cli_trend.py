"""``resolver trend`` and ``resolver scores`` (DESIGN sections 5 and 12): where open claims
stand, and each forecaster's track record. ``resolver.cli`` registers them on its group (whose
context object, a ``_Context``, they receive); like every command they import what they use
when they run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from resolver.errors import NotFound, ResolverError

if TYPE_CHECKING:
    import datetime as dt

    from resolver.cli import _Context
    from resolver.scores import Record, Scored, Scores
    from resolver.settings import Settings
    from resolver.trend import Series, Trend, Trends
    from state.db import Database
    from state.records import Prediction


@click.command()
@click.argument("benchmark")
@click.option("--source", "source_name", help="Read this source (default: the benchmark's "
              "primary source; METR's method picks it).")
@click.option("--since", help="Fit the frontier rows dated from this DATE on (default: three "
              "years before the latest poll).")
@click.option("--at", "at", help="As of the latest successful poll at or before this time "
              "(ISO 8601; default now).")
@click.option("--json", "as_json", is_flag=True, help="Full precision, as JSON.")
@click.pass_obj  # resolver.cli's _Context; not imported, so that resolver.cli may import this
def trend(ctx: _Context, benchmark: str, source_name: str | None, since: str | None,
          at: str | None, as_json: bool) -> None:
    """The frontier of BENCHMARK, its fitted rate, and the projection of every open claim on
    it (e.g. metr-p50-horizon@1.1, swe-bench-verified)."""
    from resolver import clock
    from resolver import trend as trends
    from resolver.sota import Views

    series = _series(ctx.settings, benchmark, source_name)
    start = _date(since, "--since") if since else None
    views = Views(ctx.db, clock.parse_timestamp(at) if at else clock.now())
    shared = trends.Trends(views, since=start)
    found = shared.trend(series)
    if found is None:
        raise ResolverError(f"{series.source} has no successful poll yet"
                            + (f" at or before {at}" if at else "")
                            + f" (see: resolver poll {series.source})")
    claims = _open_claims(ctx.db, ctx.settings, series, shared)
    document = _trend_json(found, claims)
    click.echo(json.dumps(document, indent=2) if as_json else "\n".join(_trend_text(document)))


def _series(settings: Settings, benchmark: str, source_name: str | None) -> Series:
    from resolver.claims import DEFAULT_METR_METHOD, METR_METHODS
    from resolver.filters import Filter
    from resolver.trend import Series

    catalog = settings.kinds
    name, _, method = benchmark.partition("@")
    unit = catalog.unit(name)
    if unit is None:
        raise ResolverError(f"unknown benchmark {name!r}; known: {', '.join(catalog.ids())}")
    if not name.startswith("metr-"):
        if method:
            raise ResolverError(f"only METR metrics take a method; {name} has none")
        method_or_none = None
    else:
        method_or_none = method or DEFAULT_METR_METHOD
        if method_or_none not in METR_METHODS:
            raise ResolverError(f"unknown METR method {method_or_none!r}; known: "
                                f"{', '.join(sorted(METR_METHODS))}")
    if source_name is None:
        source = (METR_METHODS[method_or_none] if method_or_none else catalog.primary(name))
        assert source is not None  # a benchmark with a unit has a primary source
    else:
        if catalog.source(source_name) is None:
            raise ResolverError(f"unknown source {source_name!r}; known: "
                                f"{', '.join(catalog.names())}")
        if catalog.benchmark(name, source_name) is None:
            raise ResolverError(f"source {source_name} has no benchmark {name}")
        source = source_name
    filters = (Filter("method", "=", method_or_none),) if method_or_none else ()
    return Series(source, name, method_or_none, unit, "result", filters)


def _date(text: str, option: str) -> dt.date:
    from resolver.periods import date_problem, parse_period

    period = parse_period(text)
    if period is None:
        raise ResolverError(f"{option}: {date_problem(text)}")
    return period.start


def _open_claims(db: Database, settings: Settings, series: Series,
                 shared: Trends) -> list[dict[str, Any]]:
    """Every open claim on the benchmark (its source and METR method), each projected on its
    own frontier (its filters and date basis)."""
    from resolver.claims import parse_cached
    from state import predictions as store

    found = []
    for p in store.all_(db, status="open"):
        if p.manual or p.benchmark != series.benchmark or p.source != series.source:
            continue
        claim = parse_cached(p.claim, settings.kinds)
        if claim.method != series.method:
            continue
        projection = shared.projection(claim, p.threshold)
        found.append({"id": p.id, "claim": p.claim, "threshold": p.threshold,
                      "deadline": claim.last_day.isoformat(),
                      "projection": projection.to_json() if projection else None,
                      "pace": shared.pace(claim, p.threshold, made(p))})
    return found


def made(p: Prediction) -> str:
    """When the claim was made public: ``made``, else its registration."""
    return p.made_at


def _trend_json(found: Trend, claims: list[dict[str, Any]]) -> dict[str, Any]:
    from resolver.trend import RATE_UNITS, transform_of

    line, series = found.fit, found.series
    transform = line.transform if line else transform_of(series.unit)
    return {
        "benchmark": series.benchmark, "source": series.source, "method": series.method,
        "unit": series.unit, "since": found.since.isoformat(), "at": found.at,
        "transform": transform, "n": line.n if line else len(found.points),
        "slope_per_day": line.slope_per_day if line else None,
        "doubling_days": line.doubling_days if line else None,
        "rate": line.rate if line else None, "rate_unit": RATE_UNITS[transform],
        "current": line.current if line else None,
        "fitted_now": line.fitted_now if line else None, "problem": found.problem,
        "frontier": [p.to_json() for p in found.points], "claims": claims,
    }


# -- numbers for people (DESIGN section 5) ---------------------------------------------------


def _value(number: float | None, unit: str) -> str:
    from resolver.numbers import value

    return value(number, unit)


def _rate(document: dict[str, Any]) -> str:
    rate, transform = document["rate"], document["transform"]
    if rate is None:
        return "no fitted rate"
    if transform == "log2":
        return f"doubling every {rate:.1f} days"
    if transform == "logit":
        return (f"{rate:+.1f} pp per year at the current level "
                f"{_value(document['current'], '%')} (the fitted line is at "
                f"{_value(document['fitted_now'], '%')} now)")
    return f"{rate:+,.1f} points per year"


def _percent(p: float | None) -> str:
    from resolver.numbers import probability

    return probability(p)


def _table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    from resolver.numbers import table

    return ["  " + line for line in table(rows, header)]


def _trend_text(document: dict[str, Any]) -> list[str]:
    unit = document["unit"]
    metric = document["benchmark"] + (f"@{document['method']}" if document["method"] else "")
    lines = [f"{metric} on {document['source']}, as of the poll at {document['at']}: "
             f"{len(document['frontier'])} frontier rows since {document['since']}"]
    if document["frontier"]:
        lines += _table([(p["date"], _value(p["value"], unit), p["key"], p["subject"])
                         for p in document["frontier"]], ("date", "value", "key", "subject"))
    if document["problem"]:
        lines.append(f"fit: {document['problem']}")
    else:
        lines.append(f"fit ({document['transform']} over {document['n']} rows): "
                     f"{_rate(document)}")
    if not document["claims"]:
        lines.append("no open claims on it")
        return lines
    lines.append("open claims:")
    rows = []
    for claim in document["claims"]:
        projection = claim["projection"] or {}
        rows.append((claim["id"], _value(claim["threshold"], unit) if claim["threshold"]
                     is not None else "baseline not frozen", claim["deadline"],
                     projection.get("crossing_date") or "-",
                     _percent(projection.get("p_by_deadline")),
                     _percent(claim["pace"])))
    lines += _table(rows, ("id", "threshold", "by", "line crosses", "P(yes)", "pace"))
    return lines


# -- scores ---------------------------------------------------------------------------------


@click.command()
@click.option("--author", help="Only this author's record (case-insensitive).")
@click.option("--json", "as_json", is_flag=True, help="Full precision, as JSON.")
@click.pass_obj
def scores(ctx: _Context, author: str | None, as_json: bool) -> None:
    """Track record per author and overall: Brier score, log score, calibration and mean
    pace, over resolved predictions with a probability."""
    from resolver import scores as track_record
    from state import predictions as store

    everyone = store.all_(ctx.db)
    if author is not None:
        names = sorted({p.author for p in everyone if p.author})
        if not any((p.author or "").casefold() == author.casefold() for p in everyone):
            raise NotFound(f"no predictions by {author!r}; authors: "
                           f"{', '.join(names) or 'none'}")
    table = track_record.scores(_scored(ctx.db, ctx.settings, everyone))
    if author is not None:
        wanted = author.casefold()
        table = track_record.Scores(
            tuple(r for r in table.authors if (r.author or "").casefold() == wanted), table.all)
    document = table.to_json()
    click.echo(json.dumps(document, indent=2) if as_json else "\n".join(_scores_text(table)))


def _scored(db: Database, settings: Settings, everyone: list[Prediction]) -> list[Scored]:
    """The resolved predictions with a probability (annulled ones are not resolved), each
    with its pace as of the latest poll of its source."""
    from resolver import clock
    from resolver.claims import parse_cached
    from resolver.scores import Scored
    from resolver.sota import Views
    from resolver.trend import Trends

    shared = Trends(Views(db, clock.now()))
    found = []
    for p in everyone:
        if p.status != "resolved" or p.probability is None or p.outcome is None:
            continue
        pace = None
        if not p.manual:
            pace = shared.pace(parse_cached(p.claim, settings.kinds), p.threshold, made(p))
        found.append(Scored(p.author, p.probability, p.outcome, pace))
    return found


def _scores_text(table: Scores) -> list[str]:
    if table.all is None:
        return ["no resolved predictions with a probability yet"]
    records: list[Record] = [*table.authors, table.all]
    lines = _table([(r.author or "(no author)" if r is not table.all else "all", str(r.n),
                     f"{r.brier:.3f}", f"{r.log_score:.3f}", _percent(r.mean_pace))
                    for r in records], ("author", "n", "Brier", "log score", "mean pace"))
    for r in table.authors:
        lines.append(f"calibration of {r.author or '(no author)'}:")
        lines += _table([(f"{b.low:.1f}-{b.low + 0.1:.1f}", str(b.n), _percent(b.mean_p),
                          _percent(b.yes_share)) for b in r.calibration],
                        ("p", "n", "mean p", "resolved yes"))
    return lines
