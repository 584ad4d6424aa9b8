"""``resolver verify`` and ``resolver export`` (DESIGN section 14), registered on the main
group by ``resolver.cli``. Errors follow its conventions: a ``ResolverError`` is one line on
stderr and exit 1; a broken chain or a divergence is exit 4."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from resolver.cli_context import Context

if TYPE_CHECKING:

    pass


@click.command()
@click.argument("targets", nargs=-1, metavar="[ID... | BUNDLE.zip]")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_obj
def verify(ctx: Context, targets: tuple[str, ...], as_json: bool) -> None:
    """Check the event chain and re-derive decisions from the archived bytes (exit 4 if
    anything diverges or the chain is broken)."""
    from resolver.errors import ResolverError
    from resolver.verify import EXIT_DIVERGED

    bundles = [t for t in targets if t.lower().endswith(".zip") and Path(t).is_file()]
    if bundles:
        if len(targets) != 1:
            raise ResolverError("give one BUNDLE.zip, or prediction ids, not both")
        from resolver.export import verify_bundle

        report = verify_bundle(Path(bundles[0]), ctx.settings)
    else:
        from resolver.verify import verify_store

        if sys.stderr.isatty() and not as_json:  # long work shows click's progress bar
            from state import predictions as store

            total = len(targets) or len(store.all_(ctx.db))
            with click.progressbar(length=total, label="verify", file=sys.stderr) as bar:
                report = verify_store(ctx.db, ctx.settings, targets, bar.update)
        else:
            report = verify_store(ctx.db, ctx.settings, targets)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        sys.exit(EXIT_DIVERGED)


@click.command()
@click.argument("prediction_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The bundle to write (BUNDLE.zip).")
@click.pass_obj
def export(ctx: Context, prediction_id: str, output: Path) -> None:
    """A self-contained evidence bundle that `verify` re-derives on any machine."""
    from resolver import export as bundles

    data = bundles.export(ctx.db, ctx.settings, prediction_id)
    bundles.write(output, data)
    click.echo(f"{output}: {len(data):,} bytes", err=True)
