"""resolver: resolves public, dated, numeric predictions about AI benchmarks."""

__version__ = "0.1.0"
