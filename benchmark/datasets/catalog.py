"""Loader ``catalog``: a CSV of id + label (+ extra columns) and a folder of images.

Example::

    python -m benchmark data info imgs/ --loader catalog -p catalog=labels.csv \\
        -p id_column=OBJID -p label_column=CLASS -p pattern={id}.jpeg

Every catalogue row needs an image file; rows whose file is missing are an
error unless ``missing="skip"`` (or ``predict --skip-bad``), which removes them and
reports which.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, MissingPathError
from ._build import build, file_images, reading, removal
from ._labels import encode_labels, read_catalog
from .preprocess import Preprocess

__all__ = ["load", "resolve_files", "sniff"]


def resolve_files(root: Path, ids, pattern: str, missing: str):
    """Image path of each id from ``pattern``; returns (paths, keep mask, removal records)."""
    if missing not in ("raise", "skip"):
        msg = f"missing must be 'raise' or 'skip', got {missing!r}"
        raise ConfigError(msg)
    if "{id}" not in pattern:
        msg = f"pattern must contain '{{id}}' (e.g. '{{id}}.jpg'), got {pattern!r}"
        raise ConfigError(msg)
    paths = [root / pattern.replace("{id}", str(i)) for i in ids]
    keep = [p.is_file() for p in paths]
    n_missing = keep.count(False)
    if n_missing and missing == "raise" and not reading().skip_bad:
        first = paths[keep.index(False)]
        msg = (
            f"{first}: image file not found ({n_missing} of {len(paths)} catalogue rows have no "
            f"file); check pattern={pattern!r} or pass missing=skip to leave them out"
        )
        raise MissingPathError(msg)
    gone = [str(i) for i, k in zip(ids, keep) if not k]
    removed = [removal(n_missing, "catalogue rows without an image file", ids=gone)] if gone else []
    return [str(p) for p, k in zip(paths, keep) if k], keep, removed


def sniff(path) -> bool:
    """Never: a catalogue needs ``catalog=...``, so this loader is chosen by name only."""
    return False


def load(
    path,
    *,
    catalog: str,
    id_column: str = "id",
    label_column: str = "label",
    pattern: str = "{id}.jpg",
    class_names=None,
    missing: str = "raise",
    preprocess: Preprocess,
    progress: bool = True,
    name: str | None = None,
):
    """Load images listed in a CSV catalogue.

    Parameters
    ----------
    path : str or Path
        Folder holding the image files.
    catalog : str
        CSV file (absolute, relative to the working folder, or relative to ``path``).
    id_column, label_column : str
        Columns holding the sample id and its class (a name, or an integer code
        when ``class_names`` is given). Other columns go to ``meta``.
    pattern : str
        File name of an image relative to ``path``, with ``{id}`` standing for the id.
    class_names : list of str or comma-separated str, optional
        Classes in label order; default: the sorted distinct labels.
    missing : {"raise", "skip"}
        What to do with catalogue rows that have no image file.
    """
    root = Path(path)
    if not root.is_dir():
        msg = f"{root}: no such folder; check the path"
        raise MissingPathError(msg)
    table = read_catalog(catalog, columns=[id_column, label_column], base=root)
    paths, keep, removed = resolve_files(root, table[id_column], pattern, missing)
    table = table[keep].reset_index(drop=True)
    labels, classes = encode_labels(table[label_column], class_names)
    images, channels, scale = file_images(paths, preprocess=preprocess, progress=progress)
    meta = table.drop(columns=[id_column, label_column])
    return build(
        images,
        labels,
        classes,
        ids=table[id_column],
        meta=meta,
        preprocess=preprocess,
        channels=channels,
        name=name or root.name,
        where=str(root),
        progress=progress,
        removed=removed,
        extra={"scale": scale},
    )
