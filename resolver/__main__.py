import gc

# Startup allocates only what lives as long as the process: see resolver.cli.main.
collector = gc.isenabled()
gc.disable()

from resolver.cli import main  # noqa: E402

main(collector=collector)
