"""Exception types raised by astrobench.

Every error raised on bad input derives from :class:`AstrobenchError`, so the
command line can print its one-line message instead of a traceback.  The
specific types also derive from the closest builtin (``FileNotFoundError``,
``ValueError``, ``LookupError``, ``ImportError``) so that callers can catch
them the usual way.
"""

__all__ = [
    "AstrobenchError",
    "ConfigError",
    "CorruptFileError",
    "DataFormatError",
    "EmptyClassError",
    "MissingDependencyError",
    "MissingPathError",
    "NonFiniteError",
    "ShapeMismatchError",
    "SplitMismatchError",
    "UnknownNameError",
]


class AstrobenchError(Exception):
    """Base class of all errors that astrobench reports in one line."""


class MissingPathError(AstrobenchError, FileNotFoundError):
    """A file or folder that was asked for does not exist."""


class DataFormatError(AstrobenchError, ValueError):
    """A file exists but is not laid out as its format requires (e.g. missing HDF5 keys)."""


class CorruptFileError(AstrobenchError, ValueError):
    """A file could not be decoded (truncated or not an image)."""


class ShapeMismatchError(AstrobenchError, ValueError):
    """Arrays that must agree in length or shape do not."""


class NonFiniteError(AstrobenchError, ValueError):
    """Images contain NaN or infinite pixels and ``nan_policy='raise'``."""


class EmptyClassError(AstrobenchError, ValueError):
    """A class folder or label holds no images."""


class UnknownNameError(AstrobenchError, LookupError):
    """A name (loader, dataset, scheme, class, model, ...) is not registered."""

    def __str__(self):  # LookupError would otherwise quote the message like KeyError
        return str(self.args[0]) if self.args else ""


class SplitMismatchError(AstrobenchError, ValueError):
    """A saved split was made for another dataset (fingerprints differ)."""


class ConfigError(AstrobenchError, ValueError):
    """A configuration key or value is invalid."""


class MissingDependencyError(AstrobenchError, ImportError):
    """An optional dependency is not installed."""
