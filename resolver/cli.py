"""The command line (DESIGN section 5). Commands import what they use when they run, so that
``resolver --help`` stays fast. A ``ResolverError`` becomes one line on stderr and exit 1."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from resolver import __version__, cli_startup
from resolver.cli_backup import backup
from resolver.cli_site import site
from resolver.cli_trend import scores, trend
from resolver.cli_verify import export, verify
from resolver.errors import NotFound, ResolverError

if TYPE_CHECKING:
    from resolver.settings import Settings
    from state.db import Database

EXIT_SOURCES_FAILED = 3


class _Context:
    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self._settings: Settings | None = None
        self._db: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from resolver import settings

            self._settings = settings.load()
            cli_startup.end()
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            from state.db import open_db

            self._db = open_db(self.settings.state_dir)
        return self._db

    def setup_logging(self) -> None:
        from resolver import log

        log.setup(as_json=self.settings.log_json)


pass_context = click.make_pass_decorator(_Context)


def _one_line(ctx: click.Context, error: Exception, describe: Any) -> str:
    """The store's and the file system's errors name the path and the problem."""
    import sqlite3

    if isinstance(error, sqlite3.Error):
        where = "the database"
        if isinstance(ctx.obj, _Context) and ctx.obj._settings is not None:
            from state.db import DB_NAME

            where = str(ctx.obj._settings.state_dir / DB_NAME)
        return f"{where}: {describe(error)}"
    if isinstance(error, OSError) and not isinstance(error, ResolverError):
        name = f"{error.filename}: " if error.filename else ""
        return f"{name}{error.strerror or error}"
    return " ".join(str(error).split("\n"))


class _Group(click.Group):
    """Turns a ``ResolverError`` into one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        from state.db import StoreError, describe

        try:
            return super().invoke(ctx)
        except (ResolverError, StoreError, sqlite3.Error, OSError) as error:
            if isinstance(ctx.obj, _Context) and ctx.obj.verbose:
                raise
            click.echo(f"error: {_one_line(ctx, error, describe)}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="resolver")
@click.option("--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Resolve public, dated, numeric predictions about AI benchmarks, with archived evidence.

    Configuration comes from RESOLVER_* environment variables and the TOML file named by
    RESOLVER_CONFIG (default: <state dir>/resolver.toml).
    """
    ctx.obj = _Context(verbose)


cli.add_command(trend)
cli.add_command(scores)
cli.add_command(verify)
cli.add_command(export)
cli.add_command(backup)
cli.add_command(site)


# -- running --------------------------------------------------------------------------------


@cli.command()
@click.option("--once", is_flag=True, help="One cycle: poll every enabled source, evaluate, "
              "write today's digest if due, then exit (3 if a source failed).")
@pass_context
def run(ctx: _Context, once: bool) -> None:
    """Run the daemon: polls on schedule, evaluation, the nightly digest."""
    ctx.setup_logging()
    if once:
        from resolver.daemon import run_once

        failed = run_once(ctx.settings, ctx.db)
        for name, reason in failed:
            click.echo(f"{name}: {reason}", err=True)
        enabled = [s for s in ctx.settings.resolved_sources().values() if s.enabled]
        if failed and len(failed) == len(enabled) and all(
                reason.startswith(("cannot connect", "timed out")) for _, reason in failed):
            click.echo("no source could be reached (offline?): the README's \"Try it offline "
                       "on recorded payloads\" runs the same cycle on recorded files", err=True)
        sys.exit(EXIT_SOURCES_FAILED if failed else 0)
    from resolver.daemon import Daemon

    Daemon(ctx.settings).run()


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--from-file", type=click.Path(path_type=Path),
              help="Ingest a recorded payload instead of fetching (backfill, replay).")
@click.option("--at", "at", help="With --from-file: the poll's time (ISO 8601; default now).")
@click.option("--json", "as_json", is_flag=True, help="Print the poll results as JSON.")
@pass_context
def poll(ctx: _Context, names: tuple[str, ...], from_file: Path | None, at: str | None,
         as_json: bool) -> None:
    """Poll sources now and evaluate (all enabled sources by default)."""
    from resolver import clock, poller

    ctx.setup_logging()
    sources = ctx.settings.resolved_sources()
    for name in names:
        if name not in sources:
            raise ResolverError(f"unknown source {name!r}; known: {', '.join(sources)}")
    if from_file is not None and len(names) != 1:
        raise ResolverError("--from-file needs exactly one source name")
    if at is not None and from_file is None:
        raise ResolverError("--at needs --from-file (a live poll happens now)")
    chosen = [sources[n] for n in names] or [s for s in sources.values() if s.enabled]
    when = past(at) if at is not None else None
    results = []
    failed = False
    from state import change_alerts

    before = change_alerts.latest_event(ctx.db)
    for source in chosen:
        outcome = poller.poll(ctx.db, ctx.settings, source, at=when, from_file=from_file)
        if from_file is not None:  # a replay never notifies, now or later
            change_alerts.never_alert_after(ctx.db, before, at=clock.now())
        if not outcome.poll.ok:
            failed = True
            click.echo(f"{source.name}: {outcome.poll.error}", err=True)
        results.append({"source": source.name, "status": outcome.poll.status,
                        "rows": outcome.poll.rows, "error": outcome.poll.error,
                        "sha256": outcome.poll.sha256,
                        "changes": [c.__dict__ for c in outcome.changes]})
    if as_json:
        click.echo(json.dumps(results, indent=2, allow_nan=False))
    if failed:
        sys.exit(EXIT_SOURCES_FAILED)


@cli.command()
@click.option("--at", "at", help="Evaluate as of this time (ISO 8601; default now).")
@pass_context
def evaluate(ctx: _Context, at: str | None) -> None:
    """Evaluate every prediction as of a time."""
    from resolver import lifecycle, poller

    ctx.setup_logging()
    changes = lifecycle.evaluate_now(ctx.db, sources=ctx.settings.kinds,
                                     retired=ctx.settings.retired,
                                     at=past(at) if at is not None else None)
    for change in changes:
        poller.log_change(change)
    if not changes:
        click.echo("no changes", err=True)


# -- predictions ----------------------------------------------------------------------------


@cli.group()
def predict() -> None:
    """Register and list predictions."""


@predict.command("add")
@click.argument("claim")
@click.option("--id", "prediction_id", required=True, help="A stable id, e.g. ai2027-swe-85.")
@click.option("--title")
@click.option("--author")
@click.option("--url")
@click.option("--quote")
@click.option("--probability", type=float, help="The author's stated probability (0-1).")
@click.option("--made", help="When the claim was made public (YYYY-MM-DD; default: now).")
@click.option("--late-days", type=int)
@click.option("--confirm-hours", type=float)
@click.option("--confirm-polls", type=int)
@click.option("--deadline", help="Manual claims: the DATE after which a person judges.")
@click.option("--criteria", help="Manual claims: what the person checks.")
@pass_context
def predict_add(ctx: _Context, /, claim: str, prediction_id: str, **options: Any) -> None:
    """Register one prediction. CLAIM is a claim, or "manual" with --deadline and --criteria."""
    from resolver import register

    entry = {"id": prediction_id, "claim": claim,
             **{k: v for k, v in options.items() if v is not None}}
    prediction = register.build(ctx.settings, entry)
    added, _ = register.save(ctx.db, [register.Registration(prediction, "")],
                             sources=ctx.settings.kinds)
    verb = "registered" if added else "already registered"
    click.echo(f"{verb} {prediction.id}: {prediction.claim}")


@predict.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def predict_import(ctx: _Context, file: Path) -> None:
    """Register every prediction of a TOML file: all or nothing."""
    from resolver import register

    registrations = register.read_file(ctx.settings, file)
    added, kept = register.save(ctx.db, registrations, sources=ctx.settings.kinds)
    click.echo(f"{file}: {added} registered, {kept} already registered")


@predict.command("list")
@click.option("--status", type=click.Choice(["open", "provisional", "resolved", "annulled"]))
@click.option("--json", "as_json", is_flag=True)
@pass_context
def predict_list(ctx: _Context, status: str | None, as_json: bool) -> None:
    """List predictions with their status and outcome."""
    from resolver import report

    if as_json:
        items = report.summaries(ctx.db, ctx.settings, status=status)  # type: ignore[arg-type]
        click.echo(json.dumps(items, indent=2, allow_nan=False))
        return
    lines = report.listing(ctx.db, ctx.settings, status=status)  # type: ignore[arg-type]
    if not lines:
        click.echo("no predictions registered (see: resolver predict import FILE.toml)",
                   err=True)
        return
    click.echo("\n".join(lines))


@cli.command()
@click.argument("prediction_id")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def show(ctx: _Context, prediction_id: str, as_json: bool) -> None:
    """Explain a prediction: claim, baseline, status, events, evidence chain."""
    from resolver import report

    detail = report.detail(ctx.db, ctx.settings, prediction_id)
    click.echo(json.dumps(detail, indent=2, allow_nan=False) if as_json
               else report.render_detail(detail))


@cli.command()
@click.argument("prediction_id")
@click.argument("decision", type=click.Choice(["yes", "no", "annul"]))
@click.option("--note", required=True, help="Why: shown in the event log and the digest.")
@click.option("--by", "by", default=None, help="Who decides (default: $USER).")
@click.option("--override", is_flag=True, help="Required to change a resolved or annulled "
              "prediction.")
@pass_context
def resolve(ctx: _Context, prediction_id: str, decision: str, note: str, by: str | None,
            override: bool) -> None:
    """Resolve a prediction by hand (manual claims), or override a decision."""
    import getpass

    from resolver import lifecycle

    who = by or getpass.getuser()
    status = lifecycle.resolve_by_hand(ctx.db, prediction_id, decision,  # type: ignore[arg-type]
                                       note=note, by=who, override=override)
    click.echo(f"{prediction_id}: {status}")


# -- reports --------------------------------------------------------------------------------


@cli.command()
@click.option("--date", "day", help="The digest's date (YYYY-MM-DD; default today).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print instead of writing files.")
@pass_context
def digest(ctx: _Context, day: str | None, fmt: str, to_stdout: bool) -> None:
    """Render a digest again from the stored events (never notifies)."""
    from resolver import digest as digests
    from resolver.render import render

    date = digests.parse_day(day) if day else digests.today(ctx.settings)
    content = digests.build(ctx.db, ctx.settings, date)
    if to_stdout:
        click.echo(render(content, fmt), nl=False)
        return
    paths = digests.write_files(ctx.settings, content)
    click.echo("\n".join(str(p) for p in paths))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@pass_context
def sources(ctx: _Context, as_json: bool) -> None:
    """Sources with their last success, last failure and reason, and staleness."""
    from resolver import report

    items = report.sources(ctx.db, ctx.settings)
    if as_json:
        click.echo(json.dumps(items, indent=2, allow_nan=False))
        return
    click.echo("\n".join(report.render_sources(ctx.db, items)))


@cli.command()
@click.argument("sha256")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@pass_context
def evidence(ctx: _Context, sha256: str, output: Path | None) -> None:
    """The archived raw bytes of a snapshot, by sha256 (or a unique prefix)."""
    from state import payloads

    try:
        full, body = payloads.load(ctx.db, sha256)
    except payloads.UnknownSnapshot as error:
        raise NotFound(str(error)) from None
    if output is None:
        sys.stdout.buffer.write(body)
        return
    output.write_bytes(body)
    click.echo(f"{output}: {len(body)} bytes, sha256 {full}", err=True)


@cli.command()
@pass_context
def health(ctx: _Context) -> None:
    """Exit 0 if the daemon's heartbeat is fresh (the container's HEALTHCHECK)."""
    from resolver import heartbeat

    age = heartbeat.age(ctx.settings)
    limit = heartbeat.limit(ctx.settings)
    if age is None:
        _fail("unhealthy: no heartbeat yet (is `resolver run` running?)")
    if age > limit:
        _fail(f"unhealthy: last heartbeat {age:.0f}s ago (limit {limit:.0f}s)")
    click.echo(f"healthy: last heartbeat {age:.0f}s ago")


def past(text: str) -> str:
    """A ``--at`` a user gave: a timestamp not later than now (a replay or backfill happens in
    the past; a future one would settle claims early and move the source's clock ahead)."""
    from resolver.clock import now, parse_timestamp

    when = parse_timestamp(text)
    if when > now():
        raise ResolverError(f"--at {text!r} is in the future ({when}); replays and backfills "
                            "happen in the past")
    return when


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def main(*, collector: bool | None = None) -> None:
    """The ``resolver`` command; ``collector``: see ``cli_startup.begin``."""
    cli_startup.begin(collector=collector)
    try:
        cli(prog_name="resolver")
    finally:
        cli_startup.end()
