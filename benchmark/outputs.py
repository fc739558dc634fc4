"""The write rule every command follows: astrobench deletes or replaces only files it owns.

* A folder the tool fills (a results folder, a report folder) carries a marker file,
  ``.astrobench.json``, saying what wrote it; a file the tool writes alone (a store, a
  split, a gallery) is recognised by its content.
* Without ``--force`` an existing output file, or a non-empty folder without the
  marker, is refused, naming the path.  With ``--force`` only the tool's own files
  are replaced; a file or folder it did not write is never replaced or deleted.
* An output folder may not be the working folder, one of its parents, a folder
  holding the inputs, or a folder inside an input data folder.

Callers check first (:func:`check_output_file`, :func:`check_output_folder`) and
write only after every other check passed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ._io import read_json, write_json
from .errors import AstrobenchError

__all__ = [
    "MARKER",
    "OutputRefusedError",
    "check_output_file",
    "check_output_folder",
    "is_empty_folder",
    "read_marker",
    "write_marker",
]

#: The marker file of folders astrobench fills.
MARKER = ".astrobench.json"


class OutputRefusedError(AstrobenchError, FileExistsError):
    """An output path the write rule does not allow."""


def _resolved(path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def _refuse(path: Path, reason: str) -> None:
    raise OutputRefusedError(f"{path}: {reason}")


def is_empty_folder(folder: Path) -> bool:
    """A folder holding nothing (but, perhaps, the write lock of a run starting in it)."""
    from .locks import LOCK

    return folder.is_dir() and not any(p.name != LOCK for p in folder.iterdir())


def read_marker(folder) -> dict | None:
    """The marker of a folder the tool filled, or ``None`` if it has none."""
    path = Path(folder) / MARKER
    if not path.is_file():
        return None
    marker = read_json(path, what="astrobench marker", fix="delete the folder's marker by hand")
    return marker if isinstance(marker, dict) else None


def write_marker(folder, kind: str, **info) -> None:
    """Mark ``folder`` as filled by astrobench (``kind``: ``results`` or ``report``)."""
    from . import __version__

    write_json(Path(folder) / MARKER, {"kind": kind, "astrobench": __version__, **info})


def _check_placement(folder: Path, inputs: Iterable) -> None:
    """Refuse the working folder, its parents, and folders holding (or inside) an input."""
    cwd = _resolved(Path.cwd())
    if folder == cwd:
        _refuse(folder, "is the working folder; give the results a folder of their own")
    if folder in cwd.parents:
        _refuse(folder, "is a parent of the working folder; choose a folder of its own")
    for item in inputs:
        if item is None:
            continue
        src = _resolved(item)
        if src == folder or folder in src.parents:
            _refuse(folder, f"holds the input {src}; choose a folder that holds no inputs")
        if src.is_dir() and src in folder.parents:
            _refuse(folder, f"is inside the input folder {src}; choose a folder outside it")


def check_output_folder(
    folder,
    *,
    kind: str,
    inputs: Iterable = (),
    owned: Callable[[Path], bool] | None = None,
) -> str:
    """Check that astrobench may fill ``folder``; return ``"new"`` or ``"owned"``.

    Parameters
    ----------
    folder : path
    kind : str
        What the folder is for (``results``, ``report``); a folder marked as another
        kind is refused.
    inputs : paths
        Files and folders the command reads.
    owned : callable, optional
        Recognises folders of this kind written before markers existed.

    Raises
    ------
    OutputRefusedError
        Naming the folder and why.
    """
    folder = _resolved(folder)
    _check_placement(folder, inputs)
    if folder.exists() and not folder.is_dir():
        _refuse(folder, "is a file, not a folder; choose a folder path")
    if not folder.exists() or is_empty_folder(folder):
        return "new"
    marker = read_marker(folder)
    if marker is None and owned is not None and owned(folder):
        return "owned"
    if marker is None:
        _refuse(
            folder,
            "is not empty and was not written by astrobench (no .astrobench.json marker); "
            "astrobench never replaces files it did not write: choose a new or empty folder",
        )
    if marker.get("kind") != kind:
        _refuse(folder, f"holds astrobench {marker.get('kind')} output, not {kind}; choose another")
    return "owned"


def check_output_file(
    path,
    *,
    force: bool,
    owned: Callable[[Path], bool],
    inputs: Iterable = (),
    what: str = "output",
) -> Path:
    """Check that astrobench may write the file ``path``; return it.

    ``force`` allows replacing an existing file only when ``owned(path)`` says the
    tool wrote it.

    Raises
    ------
    OutputRefusedError
        Naming the path and what to do instead.
    """
    path = _resolved(path)
    for item in inputs:
        if item is not None and _resolved(item) == path:
            _refuse(path, f"is an input of this command; choose another {what} path")
    if path.is_dir():
        _refuse(path, f"is a folder; give the {what} a file name")
    if not path.exists():
        return path
    if not force:
        _refuse(path, "already exists; choose another output path or pass --force to replace it")
    if not owned(path):
        _refuse(
            path,
            "exists and was not written by astrobench; --force replaces only files astrobench "
            "wrote, so choose another output path",
        )
    return path


def json_with_keys(*keys: str) -> Callable[[Path], bool]:
    """An ``owned`` test: a JSON object holding every one of ``keys``."""

    def owned(path: Path) -> bool:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return False
        return isinstance(data, dict) and all(k in data for k in keys)

    return owned


def png_written_by_us(path: Path) -> bool:
    """An ``owned`` test for PNG files: astrobench writes ``Software: astrobench`` into them."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return str(getattr(im, "text", {}).get("Software", "")).startswith("astrobench")
    except (OSError, UnidentifiedImageError):
        return False
