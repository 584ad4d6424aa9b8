"""Rendering a digest's content: Markdown, HTML (with SVG charts from pygal) and the Atom
feed. The JSON keeps the data as it came; the rendered formats treat all text from sources
and predictions files as untrusted (DESIGN section 8):

- Markdown: ``markdown_text`` turns newlines and control characters into spaces, so a text
  stays on its line and cannot start a heading or a fake resolution, and escapes what could
  start HTML, a link, code, emphasis or a table cell; ``_code`` does the same inside a code span;
- HTML and Atom: Jinja2 autoescapes, and every value is passed through ``xml_text`` first, so a
  character XML 1.0 forbids (NUL, most C0 controls, lone surrogates) cannot make the feed
  ill-formed;
- links from sources are kept only when ``web_link`` finds ``http:`` or ``https:``, else the
  text is shown without a link, in every format;
- the HTML loads no external script, font or style.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from resolver import numbers
from state.records import JSON


def render(content: JSON, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(content, indent=2, sort_keys=True) + "\n"
    if fmt == "html":
        return render_html(content)
    return render_markdown(content)


def one_line(text: Any) -> str:
    """``text`` with every line break and control character as a space (Unicode categories
    Cc, Zl, Zp, and lone surrogates, Cs): what is left cannot start a line."""
    return "".join(" " if unicodedata.category(char) in _BREAKING else char
                   for char in str(text))


_BREAKING = frozenset({"Cc", "Zl", "Zp", "Cs"})


def markdown_text(text: Any) -> str:
    """Untrusted text for Markdown: on one line, and with what could start HTML, a link,
    code, emphasis or a table cell escaped. (Intraword underscores, as in row keys, are
    literal.)"""
    out = one_line(text)
    for char in "\\`*[]<|":
        out = out.replace(char, "\\" + char)
    return out


_md = markdown_text


def _code(text: Any) -> str:
    """A Markdown code span of untrusted text: backslashes do not escape inside one, so the
    fence is one backtick longer than the longest run of backticks in the text."""
    out = one_line(text)
    runs = [len(run) for run in re.findall(r"`+", out)]
    if not runs:
        return f"`{out}`"
    fence = "`" * (max(runs) + 1)
    return f"{fence} {out} {fence}"


def web_link(link: Any) -> str | None:
    """A link taken from a source, kept only when it is ``http:`` or ``https:`` (ignoring case,
    once surrounding whitespace and control characters are stripped and tabs and line breaks
    inside removed, as browsers do); characters a URL cannot carry are percent-encoded, so the
    link cannot end its Markdown destination or line. None: show the text without a link."""
    if not isinstance(link, str):
        return None
    cleaned = re.sub(r"[\t\r\n]", "", _LINK_EDGES.sub("", link))
    if not re.match(r"https?:", cleaned, re.IGNORECASE):
        return None
    return quote(cleaned, safe="!#$%&'()*+,/:;=?@[]~")


_LINK_EDGES = re.compile(r"^[\s\x00-\x20\x7f-\x9f]+|[\s\x00-\x20\x7f-\x9f]+$")
_XML_INVALID = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with each character XML 1.0 forbids as U+FFFD."""
    if text.isascii() and text.isprintable():  # U+0020..U+007E only: nothing to replace
        return text
    return _XML_INVALID.sub("\ufffd", text)


QUIET = "A quiet day: no prediction changed."


def summary(content: Mapping[str, Any]) -> str:
    """One line for a digest, counting what each count says ("2 became provisional, 1
    resolved"), or that the day was quiet. The one definition of a quiet day (DESIGN 8): no
    event at all (a frozen baseline or a backfilled event is news), no new record or report,
    nothing awaiting judgment."""
    parts = []
    moved = Counter(entry["status"] for entry in content["resolutions"])
    for status, words in (("provisional", "became provisional"), ("resolved", "resolved"),
                          ("annulled", "annulled")):
        if moved[status]:
            parts.append(f"{moved[status]} {words}")
    for name, one, many in (("reversions", "went back to open", "went back to open"),
                            ("baselines", "baseline frozen", "baselines frozen"),
                            ("backfilled", "backfilled event", "backfilled events"),
                            ("records", "new record", "new records"),
                            ("reports", "new report", "new reports"),
                            ("awaiting_judgment", "awaiting judgment", "awaiting judgment")):
        count = len(content[name])
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts) if parts else QUIET


def render_markdown(content: JSON) -> str:
    units: dict[str, str] = content.get("units", {})
    lines = [f"# resolver digest, {content['date']}", ""]
    span = content["window"]
    lines.append(f"Events from {span['from'] or 'the beginning'} to {span['to']}.")
    lines.append("")
    sections = (("Resolutions", content["resolutions"]), ("Reversions", content["reversions"]),
                ("Baselines frozen", content["baselines"]),
                ("Backfilled", content["backfilled"]))
    for title, entries in sections:
        if not entries:
            continue
        lines += [f"## {title}", ""]
        for entry in entries:
            outcome = f" **{_md(entry['outcome'])}**" if entry["outcome"] else ""
            lines.append(f"- {_code(entry['id'])} {_md(entry['from'] or '')} → "
                         f"{_md(entry['status'])}{outcome} at {_md(entry['at'])}: "
                         f"{_md(entry['reason'])}")
            row = entry.get("evidence")
            if row:
                value = numbers.value(row["value"], units.get(row["benchmark"], ""))
                lines.append(f"  - evidence: {_md(row['subject'])} {value} "
                             f"({_md(row['key'])}, dated {_md(row['result_date'])}), snapshot "
                             f"{_code(row['snapshot_sha256'])}")
            settlement = entry.get("settlement")
            if settlement:
                lines.append(f"  - bet: {_md(settlement['payer'])} owes "
                             f"{_md(settlement['payee'])} {_md(settlement['stake'])}")
        lines.append("")
    if content["records"]:
        lines += ["## New state-of-the-art records", ""]
        for item in content["records"]:
            unit = units.get(item["benchmark"], "")
            was = (f", was {numbers.value(item['previous'], unit)}"
                   if item["previous"] is not None else "")
            lines.append(f"- {_md(item['benchmark'])} ({_md(item['source'])}): "
                         f"{numbers.value(item['value'], unit)} by {_md(item['subject'])}{was}")
        lines.append("")
    if content["upcoming"]:
        lines += ["## Deadlines in the next 30 days", ""]
        for item in content["upcoming"]:
            lines.append(f"- {_code(item['id'])} {_md(item['deadline'])}: "
                         f"{_distance(item, _md)}")
        lines.append("")
    if content["reports"]:
        lines += ["## New reports", ""]
        for report in content["reports"]:
            link = web_link(report["link"])
            title = _md(report["title"])
            shown = f"[{title}](<{link}>)" if link else title
            lines.append(f"- {shown} ({_md(report['published'] or 'undated')})")
        lines.append("")
    if content["awaiting_judgment"]:
        lines += ["## Awaiting judgment", ""]
        for item in content["awaiting_judgment"]:
            lines.append(f"- {_code(item['id'])}: {_md(item['reason'])}")
        lines.append("")
    problems = [s for s in content["sources"] if s["failed"] or s["rejected"] or s["suspicious"]
                or s.get("members_failed") or s.get("members_unknown")]
    if problems:
        lines += ["## Source health", ""]
        for item in problems:
            if item["failed"]:
                what = (f"{item['failed']} of {item['polls']} polls failed" if item["polls"]
                        else "failing")
                lines.append(f"- {_md(item['name'])}: {what} ({_md('; '.join(item['errors']))})")
            for flag in item["suspicious"]:
                lines.append(f"- {_md(item['name'])}: {_md(flag['benchmark'])} looks suspicious "
                             f"({_md(flag['reason'])}); nothing retracted until three polls "
                             "agree")
            for flag in item.get("members_failed", []):
                lines.append(f"- {_md(item['name'])}: {_md(flag['benchmark'])} did not parse "
                             f"({_md(flag['reason'])}); its rows are kept as they were")
            for member in item.get("members_unknown", []):
                lines.append(f"- {_md(item['name'])}: new member {_md(member)}: unit unknown "
                             "(map it in [sources.NAME.members] to ingest it)")
            for rejection in item["rejected"]:
                lines.append(f"- {_md(item['name'])}: rejected {_md(rejection['subject'])} "
                             f"({_md(rejection['key'])}): {_md(rejection['reason'])}")
        lines.append("")
    if content.get("scores"):
        lines += ["## Track record", "", "| author | resolved | Brier | log score | pace |",
                  "|---|---|---|---|---|"]
        table = content["scores"]
        for record in [*table["authors"], {**(table["all"] or {}), "author": "all"}]:
            pace = record.get("mean_pace")
            lines.append(f"| {_md(record['author'] or '(no author)')} | {record['n']} | "
                         f"{record['brier']:.3f} | {record['log_score']:.3f} | "
                         f"{'-' if pace is None else f'{pace:.0%}'} |")
        lines.append("")
    if summary(content) == QUIET:
        lines += [QUIET, ""]
    chained = chain_line(content)
    if chained:
        lines += [f"Event log: {chained}.", ""]
    return "\n".join(lines)


def chain_line(content: Mapping[str, Any]) -> str | None:
    """``events N, head <sha256>``: the event chain's head (DESIGN section 4), or None for a
    digest written before the chain existed."""
    chain = content.get("chain")
    if not chain:
        return None
    return f"events {int(chain['events'])}, head {_hex(chain['head'])}"


def _hex(text: Any) -> str:
    """A hash as shown: hex digits only (the JSON of an old digest file is not trusted)."""
    return "".join(c for c in str(text) if c in "0123456789abcdef")[:64]




def _distance(item: JSON, escape: Callable[[Any], str]) -> str:
    """Where an upcoming deadline's claim stands: the best in its window, its distance to the
    threshold (percentage points for percent), and the trend's P(yes) when it has one."""
    if item["claim"] == "manual":
        return "manual claim: a person judges after this date"
    best = item["best"]
    unit = item.get("unit", "")
    gap = numbers.distance(best["value"] if best else None, item["threshold"], unit)
    said = (f"best in window {numbers.value(best['value'], unit)} by "
            f"{escape(best['subject'])}, {gap}" if best else gap)
    projection = item.get("projection")
    if projection:
        said += f"; trend: P(yes) {numbers.probability(projection['p_by_deadline'])}"
    return said


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(loader=PackageLoader("resolver", "templates"),
                              autoescape=select_autoescape(["html", "atom"]),
                              trim_blocks=True, lstrip_blocks=True, finalize=finalize)
    environment.filters["distance"] = lambda item: _distance(item, str)
    environment.filters["link"] = web_link
    environment.filters["number"] = (
        lambda value, unit="": numbers.value(value, unit) if unit else f"{value:g}")
    environment.filters["chain"] = chain_line
    return environment


def finalize(value: Any) -> Any:
    """Every ``{{ value }}`` of a template, before Jinja2 escapes it: no character XML 1.0
    forbids (markup such as the inlined SVG stays markup)."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return Markup(xml_text(str(value)))
    if isinstance(value, str):
        return xml_text(value)
    return value


def render_html(content: JSON) -> str:
    from markupsafe import Markup

    svgs = [Markup(svg) for chart in content.get("charts", []) if (svg := chart_svg(chart))]
    template = _environment().get_template("digest.html")
    return str(template.render(digest=content, charts=svgs))


def render_atom(entries: list[JSON], *, base_url: str, updated: str) -> str:
    template = _environment().get_template("feed.atom")
    return str(template.render(entries=entries, base=base_url.rstrip("/"), updated=updated))


def chart_svg(chart: JSON) -> str:
    """A digest's chart of one benchmark: the site's chart (resolver.charts: a log axis for
    minutes, each threshold labelled and equal ones merged, the window ends marked), drawn
    from the digest's JSON so that a date renders again to the same bytes."""
    import datetime as dt

    from resolver import charts

    points = tuple((dt.date.fromisoformat(date[:10]), value, subject)
                   for date, value, subject in chart["points"])
    thresholds = charts.merged([
        charts.Threshold(claim["threshold"],
                         dt.date.fromisoformat(claim["start"]) if claim["start"] else None,
                         dt.date.fromisoformat(claim["end"]), (f"{claim['id']} ({claim['op']})",))
        for claim in chart["claims"] if claim["threshold"] is not None])
    if not points:
        return ""  # no chart where a benchmark has no rows (DESIGN 13)
    return charts.svg(charts.Chart(f"{chart['benchmark']} ({chart['source']})", chart["unit"],
                                   points, thresholds))


