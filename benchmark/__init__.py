"""astrobench: classical feature-based classifiers versus CNNs on astronomical images.

The harness package: datasets, simulation, splits, metrics, runner, results and tables.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("astrobench")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
