"""The command's entry point (``resolver`` and ``python -m resolver``): what must happen before
the command line is imported."""

from __future__ import annotations


def main() -> None:
    import gc
    import os

    # Startup allocates only what lives as long as the process: see resolver.cli.main.
    collector = gc.isenabled()
    gc.disable()
    # resolver uses no pydantic plugin; looking for them reads the metadata of every
    # installed package (about 8 ms of each command). A user's own setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    from resolver.cli import main as command_line

    command_line(collector=collector)
