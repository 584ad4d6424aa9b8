"""The static site (DESIGN section 13): what a forecaster opens instead of a shell.

    index.html               the status board: every prediction by status
    p/ID.html, p/ID.zip      a prediction, and its evidence bundle (``resolver.export``)
    b/BENCHMARK.html         a benchmark on its primary source (METR: ``NAME@METHOD``), else
                             b/SOURCE/BENCHMARK.html; only benchmarks with rows or claims
    authors/SLUG.html        an author's track record and predictions
    evidence/SHA256          the archived raw bytes every event cites
    api/predictions.json, api/predictions/ID.json, api/benchmarks/ID.json: JSON mirrors

``content`` builds the site as JSON-able records from the store (one ``Views`` and one
``Trends`` shared by every prediction, so each frontier and its refits are built once);
``write`` renders them with ``templates/site`` (Jinja2, autoescaped: leaderboard text is
untrusted), each distinct chart once, and writes only the files whose bytes changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resolver import charts, clock, numbers
from resolver.claims import METR_METHODS, Claim, parse_cached
from resolver.filters import Filter
from resolver.frontier import frontier
from resolver.render import finalize, web_link
from resolver.report import summary
from resolver.settings import Settings
from resolver.sota import Views
from resolver.trend import RATE_UNITS, Series, Trends, transform_of
from state import chain, payloads
from state import predictions as store
from state.db import Database
from state.records import JSON, Event, LateEvidence, Prediction, deciding_row

ORDER = ("open", "provisional", "resolved", "annulled")
TOP_ROWS = 10  # rows on a benchmark page
_METHOD_OF = {source: method for method, source in METR_METHODS.items()}


@dataclass(slots=True)
class Site:
    predictions: list[JSON]
    benchmarks: list[JSON]
    authors: list[JSON]
    charts: dict[str, charts.Chart] = field(default_factory=dict)
    evidence: set[str] = field(default_factory=set)
    generated_at: str = ""
    chain: JSON = field(default_factory=dict)


def slug(name: str) -> str:  # DESIGN 13: lower-cased, runs outside a-z0-9 as "-"
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "author"


def slugs(names: Iterable[str]) -> dict[str, str]:
    """Each author's slug (DESIGN 13), ``-2``, ``-3`` on collisions, in order of name."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names), key=lambda n: (n.casefold(), n)):
        base, n = slug(name), 1
        while (candidate := base if n == 1 else f"{base}-{n}") in taken:
            n += 1
        taken.add(candidate)
        found[name] = candidate
    return found


def page_id(source: str, benchmark: str, primary: str | None) -> str:
    """``metr-p50-horizon@1.1``; the primary source's ``swe-bench-verified``; else
    ``SOURCE/BENCHMARK``."""
    if source in _METHOD_OF and benchmark.startswith("metr-"):
        return f"{benchmark}@{_METHOD_OF[source]}"
    return benchmark if source == primary else f"{source}/{benchmark}"


def series_of(source: str, benchmark: str, unit: str) -> Series:
    method = _METHOD_OF.get(source) if benchmark.startswith("metr-") else None
    filters = (Filter("method", "=", method),) if method else ()
    return Series(source, benchmark, method, unit, "result", filters)


class _Builder:
    def __init__(self, db: Database, settings: Settings, now: str) -> None:
        self.db, self.settings, self.now = db, settings, now
        self.kinds = settings.kinds
        self.views = Views(db, now)
        self.trends = Trends(self.views)
        self.site = Site([], [], [], generated_at=now, chain=chain.head(db).to_json())
        self._points: dict[Series, tuple[tuple[dt.date, float, str], ...]] = {}
        self._charts: dict[tuple[Any, ...], str | None] = {}

    def points(self, series: Series) -> tuple[tuple[dt.date, float, str], ...]:
        if series not in self._points:
            at = self.trends.at_of(series.source) or self.now
            rows = self.views(series.source).rows.get(series.benchmark, ())
            found = frontier(rows, filters=series.filters, basis=series.basis, at=at)
            self._points[series] = tuple((p.date, p.value, p.subject) for p in found)
        return self._points[series]

    def chart(self, series: Series, title: str, thresholds: tuple[charts.Threshold, ...],
              band_of: Claim | None = None) -> str | None:
        """The id of the chart of ``series`` with ``thresholds``, built once per distinct
        series, thresholds and window; None without rows."""
        key = (series, thresholds, band_of.end if band_of else None)
        if key not in self._charts:
            points = self.points(series)
            band: tuple[tuple[dt.date, float, float, float], ...] = ()
            found = self.trends.trend(series) if band_of else None
            if band_of is not None and found is not None and found.refits is not None:
                start = dt.date.fromisoformat(found.at[:10])
                span = max((band_of.end - start).days, 1)
                days = [start + dt.timedelta(days=span * i // 12) for i in range(13)]
                band = tuple(found.refits.band(days)) if band_of.end > start else ()
            chart = charts.Chart(title, series.unit, points, thresholds, band)
            name = hashlib.sha256(repr((key, title)).encode()).hexdigest()[:16]
            self._charts[key] = name if points else None
            self.site.charts.update({name: chart} if points else {})
        return self._charts[key]


def content(db: Database, settings: Settings, *, now: str | None = None,
            progress: Callable[[int], None] | None = None) -> Site:
    build = _Builder(db, settings, now or clock.now())
    everyone = store.all_(db)
    events: dict[str, list[Event]] = {}
    for event in store.events(db):
        events.setdefault(event.prediction_id, []).append(event)
    authors = slugs(p.author for p in everyone if p.author)
    claims: dict[str, list[JSON]] = {}
    for p in everyone:
        item = _prediction(build, p, events.get(p.id, []), authors)
        build.site.predictions.append(item)
        if item["benchmark_page"]:
            claims.setdefault(item["benchmark_page"], []).append(item)
        _ = progress and progress(1)
    build.site.predictions.sort(key=lambda item: (ORDER.index(item["status"]),
                                                  item["deadline"] or "9999", item["id"]))
    build.site.benchmarks = _benchmarks(build, claims)
    build.site.authors = _authors(build, everyone, authors)
    return build.site


def _prediction(build: _Builder, p: Prediction, events: list[Event],
                authors: dict[str, str]) -> JSON:
    item = summary(build.db, p, build.views, build.kinds, build.trends)
    settled = p.bet.settle(p.status, p.outcome) if p.bet else None
    item.update(raw=p.raw, url=web_link(p.url), quote=p.quote, op=p.op,
                registered_at=p.registered_at, bet=p.bet.to_json() if p.bet else None,
                settlement=settled.to_json() if settled else None, criteria=p.criteria,
                author_slug=authors.get(p.author) if p.author else None,
                events=[_event(build, e) for e in events], benchmark_page=None, chart=None,
                best_in_window=None, corroboration=[], days_left=None)
    if item["deadline"]:
        item["days_left"] = (dt.date.fromisoformat(item["deadline"])
                             - dt.date.fromisoformat(build.now[:10])).days
    if p.manual:
        return item
    claim = parse_cached(p.claim, build.kinds)
    primary = build.kinds.primary(claim.benchmark)
    item["benchmark_page"] = page_id(claim.source, claim.benchmark, primary)
    best = build.views(claim.source).best_in_window(claim)
    item["best_in_window"] = best.evidence(claim.source).to_json() if best else None
    if p.threshold is not None:
        line = charts.Threshold(p.threshold, claim.start, claim.last_day, ("threshold",))
        item["chart"] = build.chart(Series.of(claim), _title(claim), (line,), claim)
    for name in build.kinds.yielding(claim.benchmark):
        yielded = build.kinds.benchmark(claim.benchmark, name)
        if name == claim.source or yielded is None \
                or not build.settings.resolved_sources()[name].enabled:
            continue
        kept = tuple(f for f in claim.row_filters
                     if f.name == "model" or f.name in dict(yielded.attributes))
        other = dataclasses.replace(claim, source=name, row_filters=kept)
        found = build.views(name).best_in_window(other)  # as sota.corroboration, views shared
        item["corroboration"].append({"source": name, "filters_applied": kept == claim.row_filters,
                                      "best": found.evidence(name).to_json() if found else None})
    return item


def _title(claim: Claim) -> str:
    return f"{claim.benchmark}{'@' + claim.method if claim.method else ''} ({claim.source})"


def _event(build: _Builder, event: Event) -> JSON:
    data = event.to_json()
    row = deciding_row(event.evidence)
    data["row"] = row.to_json() if row else None
    data["poll_sha256"] = (event.evidence.poll_sha256
                           if isinstance(event.evidence, LateEvidence) else None)
    for sha in (row.snapshot_sha256 if row else None, data["poll_sha256"]):
        if sha:
            build.site.evidence.add(sha)
    return data


def _benchmarks(build: _Builder, claims: dict[str, list[JSON]]) -> list[JSON]:
    found: dict[str, JSON] = {}
    wanted: dict[str, tuple[str, str]] = {}
    for source in build.kinds.names():
        for benchmark, rows in build.views(source).rows.items():
            if any(not row.retracted for row in rows):
                wanted[page_id(source, benchmark, build.kinds.primary(benchmark))] = (
                    source, benchmark)
    for items in claims.values():
        p = items[0]
        claim = parse_cached(p["claim"], build.kinds)
        wanted.setdefault(p["benchmark_page"], (claim.source, claim.benchmark))
    for name, (source, benchmark) in sorted(wanted.items()):
        unit = build.kinds.unit(benchmark) or ""
        found[name] = _benchmark(build, name, series_of(source, benchmark, unit),
                                 claims.get(name, []))
    return list(found.values())


def _benchmark(build: _Builder, name: str, series: Series, on_it: list[JSON]) -> JSON:
    view = build.views(series.source)
    rows = [row for row in view.rows.get(series.benchmark, ()) if not row.retracted
            and all(f.matches(row.latest.attributes, row.latest.subject) for f in series.filters)]
    rows.sort(key=lambda row: (-row.latest.value, row.key))
    trend = build.trends.trend(series)
    line = trend.fit if trend else None
    transform = line.transform if line else transform_of(series.unit)
    thresholds = charts.merged([
        charts.Threshold(p["threshold"], None, dt.date.fromisoformat(p["deadline"]),
                         (f"{p['id']} ({p['op']})",))
        for p in on_it if p["threshold"] is not None and p["status"] in ("open", "provisional")])
    title = f"{series.benchmark}" + (f"@{series.method}" if series.method else "")
    return {
        "id": name, "source": series.source, "benchmark": series.benchmark,
        "method": series.method, "unit": series.unit,
        "trend": {"at": trend.at if trend else None,
                  "since": trend.since.isoformat() if trend else None,
                  "transform": transform, "n": line.n if line else None,
                  "slope_per_day": line.slope_per_day if line else None,
                  "doubling_days": line.doubling_days if line else None,
                  "rate": line.rate if line else None, "rate_unit": RATE_UNITS[transform],
                  "problem": trend.problem if trend else "no successful poll yet",
                  "frontier": [p.to_json() for p in trend.points] if trend else []},
        "top": [{"key": r.key, "subject": r.latest.subject, "value": r.latest.value,
                 "result_date": r.latest.result_date, "url": web_link(r.latest.url),
                 "version": r.latest.n} for r in rows[:TOP_ROWS]],
        "rows": len(rows),
        "claims": [{k: p[k] for k in ("id", "title", "claim", "status", "outcome", "threshold",
                                      "deadline", "author", "author_slug")} for p in on_it],
        "chart": build.chart(series, f"{title} ({series.source})", thresholds),
    }


def _authors(build: _Builder, everyone: list[Prediction], authors: dict[str, str]) -> list[JSON]:
    from resolver import scores as track_record

    found = []
    for name, tag in sorted(authors.items(), key=lambda pair: pair[1]):
        own = [p for p in everyone if p.author == name]
        scored = []
        for p in own:
            if p.status != "resolved" or p.probability is None or p.outcome is None:
                continue
            pace = None if p.manual else build.trends.pace(
                parse_cached(p.claim, build.kinds), p.threshold, p.made_at)
            scored.append(track_record.Scored(p.author, p.probability, p.outcome, pace))
        table = track_record.scores(scored)
        record = table.authors[0].to_json() if table.authors else None
        found.append({"author": name, "slug": tag, "record": record,
                      "predictions": [p.id for p in own]})
    return found


def write(db: Database, settings: Settings, folder: Path, *, now: str | None = None,
          progress: Callable[[int], None] | None = None, all_bundles: bool = False,
          bundles: bool = True) -> int:
    """Write the site into ``folder``; only files whose bytes changed are rewritten; returns
    how many were. Bundles: for settled predictions (~50 ms each on a 4 MB source), for all
    with ``all_bundles``, for none with ``bundles=False`` (the daemon: its page makes any
    bundle on request, so a poll never pays for them)."""
    from resolver import export

    site = content(db, settings, now=now, progress=progress)
    for item in site.predictions:
        item["bundle"] = all_bundles or item["status"] != "open"
    pages = Pages(site)
    written = 0
    for path, data in pages.files():
        written += _put(folder / path, data)
    for item in site.predictions if bundles else ():
        if item["bundle"]:
            written += _bundle(folder, item, lambda pid: export.export(db, settings, pid))
    for sha in sorted(sha for sha in site.evidence if not (folder / "evidence" / sha).exists()):
        written += _put(folder / "evidence" / sha, payloads.load(db, sha)[1])
    return written


def _bundle(folder: Path, item: JSON, make: Callable[[str], bytes]) -> int:
    """A prediction's bundle, rewritten when its status or events moved on."""
    mark = json.dumps([item["status"], [e["id"] for e in item["events"]]])
    stamp = folder / "p" / f".{item['id']}.zip.mark"
    target = folder / "p" / f"{item['id']}.zip"
    if target.exists() and stamp.exists() and stamp.read_text() == mark:
        return 0
    _put(target, make(item["id"]))
    _put(stamp, mark.encode())
    return 1


def _put(path: Path, data: bytes) -> int:
    if path.exists() and path.read_bytes() == data:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return 1


class Pages:
    """The rendered files of a ``Site``: (relative path, bytes)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.env = _environment()
        self.svgs: dict[str, str] = {}

    def svg(self, name: str | None) -> Any:
        from markupsafe import Markup

        if name is None:
            return None
        if name not in self.svgs:
            self.svgs[name] = charts.svg(self.site.charts[name])
        return Markup(self.svgs[name])

    def render(self, template: str, root: str, **values: Any) -> bytes:
        page = self.env.get_template(f"site/{template}")
        return str(page.render(root=root, site=self.site, svg=self.svg, **values)).encode()

    def files(self) -> Iterable[tuple[str, bytes]]:
        site = self.site
        by_id = {item["id"]: item for item in site.predictions}
        groups = [(status, [p for p in site.predictions if p["status"] == status])
                  for status in ORDER]
        yield "index.html", self.render("index.html", "", groups=groups)
        yield "api/predictions.json", _json(site.predictions)
        for item in site.predictions:
            yield f"p/{item['id']}.html", self.render("prediction.html", "../", p=item)
            yield f"api/predictions/{item['id']}.json", _json(item)
        for bench in site.benchmarks:
            root = "../" * (1 + bench["id"].count("/"))
            yield f"b/{bench['id']}.html", self.render("benchmark.html", root, b=bench,
                                                        by_id=by_id)
            yield f"api/benchmarks/{bench['id']}.json", _json(bench)
        for author in site.authors:
            yield (f"authors/{author['slug']}.html",
                   self.render("author.html", "../", a=author, by_id=by_id))


def _json(data: Any) -> bytes:  # no indent: json's C encoder (indented JSON is pure Python)
    return (json.dumps(data, sort_keys=True, default=str) + "\n").encode()


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader

    class Site(Environment):
        """``p.status`` reads the key of a dict at once: the site's values are dicts, and
        Jinja's own order (the attribute first) raises and catches an AttributeError for
        each of the ~1.6 million it reads over 10,000 pages."""

        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

    env = Site(loader=PackageLoader("resolver", "templates"), autoescape=True,
               trim_blocks=True, lstrip_blocks=True, finalize=finalize)
    env.filters.update(value=numbers.value, threshold=numbers.threshold,
                       distance=numbers.distance, probability=numbers.probability,
                       link=web_link, left=numbers.left, rate=numbers.rate,
                       gap=numbers.gap)
    return env

