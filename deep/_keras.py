"""Import Keras 3 once, with a one-line error naming the extra to install."""

from __future__ import annotations

from benchmark.errors import MissingDependencyError

__all__ = ["import_keras"]


def import_keras():
    """Return the ``keras`` module (Keras 3, any backend)."""
    try:
        import keras
    except ImportError as exc:
        msg = 'the deep models need Keras 3; install them with: pip install "astrobench[deep]"'
        raise MissingDependencyError(msg) from exc
    if int(keras.__version__.split(".")[0]) < 3:
        msg = f'the deep models need Keras 3, found {keras.__version__}; pip install "keras>=3"'
        raise MissingDependencyError(msg)
    return keras
