"""``resolver site`` (DESIGN sections 5 and 13): write the static site into a folder, the same
files the daemon keeps in ``<state>/site``. Registered on the main group by ``resolver.cli``;
a ``ResolverError`` is one line on stderr and exit 1 there, like every command's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from resolver.cli_context import Context

if TYPE_CHECKING:

    pass


@click.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Write the site into this folder (default: <state>/site).")
@click.option("--all-bundles", is_flag=True, help="Also write the evidence bundle of every "
              "open prediction (the daemon's page makes those on request).")
@click.pass_obj
def site(ctx: Context, out: Path | None, all_bundles: bool) -> None:
    """Write the static site: status board, prediction, benchmark and author pages, evidence
    and JSON mirrors (only files that changed are rewritten)."""
    from resolver.errors import ResolverError
    from state import predictions as store

    folder = out if out is not None else ctx.settings.state_dir / "site"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ResolverError(f"{folder}: cannot write: {error.strerror or error}") from None
    if not sys.stderr.isatty():
        written = _write(ctx, folder, None, all_bundles)
    else:
        total = len(store.all_(ctx.db))
        with click.progressbar(length=total, label="site", file=sys.stderr) as bar:
            written = _write(ctx, folder, bar.update, all_bundles)
    click.echo(f"{folder}: {written} files written")


def _write(ctx: Context, folder: Path, progress: Callable[[int], None] | None,
           all_bundles: bool) -> int:
    from resolver import site as pages
    from resolver.errors import ResolverError

    try:
        return pages.write(ctx.db, ctx.settings, folder, progress=progress,
                           all_bundles=all_bundles)
    except OSError as error:
        raise ResolverError(f"{folder}: cannot write: {error.strerror or error}") from None
