"""astrobench: classical feature-based classifiers versus CNNs on astronomical images.

The harness package: datasets, simulation, splits, metrics, runner, results and tables.
In Python (a notebook, a broker)::

    from benchmark import run, load
    res = run("du-buisson-2015", quick=True)
    res.table(), res.records(), res.verdict, res.crossover
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("astrobench")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["Results", "__version__", "load", "predict", "run"]


def __getattr__(name):
    """``run``, ``load``, ``Results`` (:mod:`benchmark.api`) and ``predict``
    (:mod:`benchmark.scoring`), imported on first use so that ``import benchmark`` stays
    light."""
    if name in ("run", "load", "Results"):
        from . import api

        return getattr(api, name)
    if name == "predict":
        from .scoring import predict

        return predict
    raise AttributeError(f"module 'benchmark' has no attribute {name!r}")
