"""``resolver backup FILE`` (DESIGN section 7): a consistent copy of the database at any time,
also while the daemon runs, through SQLite's backup API. ``resolver.cli`` registers it on its
group (whose context object, a ``_Context``, it receives)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import click

from resolver.errors import ResolverError

if TYPE_CHECKING:
    from resolver.cli import _Context


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj  # resolver.cli's _Context; not imported, so that resolver.cli may import this
def backup(ctx: _Context, file: Path) -> None:
    """Copy the database to FILE (a new file): one consistent moment, while the daemon keeps
    polling. The copy opens in sqlite3, Datasette and sqlite-utils, and as a state dir's
    resolver.db."""
    from state import wal
    from state.db import DB_NAME

    if file.exists():
        raise ResolverError(f"{file}: already exists; a backup never overwrites a file")
    if not file.parent.is_dir():
        raise ResolverError(f"{file.parent}: no such directory")
    partial = file.with_name(file.name + ".partial")
    try:
        size = wal.backup(ctx.db, partial)
        partial.replace(file)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    click.echo(f"backed up {ctx.settings.state_dir / DB_NAME} to {file} ({size:,} bytes)")
