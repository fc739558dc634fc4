"""Atomic writes, and reading the tool's own JSON files with one-line errors.

Every file astrobench writes goes through :func:`atomic_path` (or
:func:`atomic_write` on top of it): the data go to a temporary file in the
target's folder, which is renamed onto the target only when writing succeeded.
A reader therefore sees the old file or the new one, never half a file, and an
interrupted write leaves no partial output behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import CorruptFileError, MissingPathError

__all__ = ["atomic_path", "atomic_write", "cache_root", "read_json", "to_jsonable", "write_json"]


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces ``path`` when the block ends cleanly.

    The temporary name keeps ``path``'s suffix, since some writers (Keras, pandas)
    choose the format by it.  On an exception the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f"{path.suffix}.part", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp)
    # the writer sees a name ending in the real suffix (".keras", ".parquet", ...)
    target = tmp.with_name(tmp.name[: -len(".part")])
    try:
        yield target
        os.replace(target, path)
    finally:
        for leftover in (tmp, target):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)


def to_jsonable(value):
    """``json.dumps`` fallback: NumPy scalars and arrays as Python values, others as text."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def write_json(path, obj, *, indent: int | None = 1) -> Path:
    """``obj`` as JSON, written atomically."""
    return atomic_write(path, json.dumps(obj, indent=indent, default=to_jsonable))


def read_json(path, *, what: str = "file", fix: str = ""):
    """Parse a JSON file the tool wrote, naming the file if it is missing or corrupt.

    Parameters
    ----------
    path : path
    what : str
        What the file is, for the message ("results record", "split file", ...).
    fix : str
        How to recover, appended to the message of a corrupt file.

    Raises
    ------
    MissingPathError, CorruptFileError
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: no such {what}"
        raise MissingPathError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: unreadable {what} ({exc.__class__.__name__}){'; ' + fix if fix else ''}"
        raise CorruptFileError(msg) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: corrupt {what} (not valid JSON: {exc}){'; ' + fix if fix else ''}"
        raise CorruptFileError(msg) from None


def cache_root() -> Path:
    """astrobench's cache folder: ``$ASTROBENCH_CACHE``, else ``~/.cache/astrobench``."""
    return Path(os.environ.get("ASTROBENCH_CACHE") or Path.home() / ".cache" / "astrobench")
