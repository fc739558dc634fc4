"""Import Keras 3 once: quietly, and with a one-line error naming the extra to install."""

from __future__ import annotations

import contextlib
import os
import sys

from benchmark.errors import MissingDependencyError

__all__ = ["import_keras"]


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up notices (absl,
    oneDNN, CPU features) are printed there, ignoring ``TF_CPP_MIN_LOG_LEVEL``."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreters): nothing to hide
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_keras():
    """Return the ``keras`` module (Keras 3, any backend).

    The first import hides the backend's start-up log lines unless
    ``ASTROBENCH_DEBUG`` is set (``python -m benchmark --debug``).
    """
    quiet = "keras" not in sys.modules and not os.environ.get("ASTROBENCH_DEBUG")
    if quiet:
        # TensorFlow's later C++ log lines (e.g. tf.data's "NodeDef mentions attribute"
        # notices while training) do honour this; Python exceptions are unaffected
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _quiet_stderr() if quiet else contextlib.nullcontext():
            import keras
    except ImportError as exc:
        msg = 'the deep models need Keras 3; install them with: pip install "astrobench[deep]"'
        raise MissingDependencyError(msg) from exc
    if int(keras.__version__.split(".")[0]) < 3:
        msg = f'the deep models need Keras 3, found {keras.__version__}; pip install "keras>=3"'
        raise MissingDependencyError(msg)
    return keras
