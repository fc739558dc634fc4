"""Loader ``galaxy-zoo``: the Kaggle Galaxy Challenge layout.

``<folder>/training_solutions_rev1.csv`` (``GalaxyID`` and the 37 vote-fraction
columns ``Class1.1`` ... ``Class11.6``) and the JPEGs ``<GalaxyID>.jpg`` either
in the same folder or in ``images_training_rev1/``.

Label schemes (``scheme=``):

``spiral-elliptical`` (seed 003)
    ``elliptical`` when the smooth fraction ``Class1.1`` exceeds the
    features/disk fraction ``Class1.2``, ``spiral`` otherwise; optional
    ``min_fraction`` cut on the winning fraction; ties are removed.
``gz4`` (seed 002, "Night Sky Net")
    edge-on (``Class2.1``), face-on spiral (``Class4.1``), elliptical
    (``Class1.1``), merger (``Class8.6``), renormalised to sum to one and kept
    only when the winning fraction is at least ``min_fraction`` (default 0.95).
``votes``
    every galaxy, labelled by its top-level answer (smooth, features/disk,
    star/artifact); the 37 fractions are regression targets in ``meta``.

All 37 fractions are kept in ``meta`` under every scheme.  Galaxies removed by
a cut are counted in the provenance and logged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, MissingPathError, UnknownNameError
from ._build import build, file_images, removal
from ._labels import read_catalog
from .catalog import resolve_files
from .preprocess import Preprocess

__all__ = ["SCHEMES", "SOLUTIONS", "VOTE_COLUMNS", "load", "sniff"]

SOLUTIONS = "training_solutions_rev1.csv"
IMAGE_FOLDERS = ("images_training_rev1", "images")
_QUESTIONS = [3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6]
#: The 37 Galaxy Zoo 2 vote-fraction columns of the Kaggle challenge.
VOTE_COLUMNS = [f"Class{q}.{a}" for q, n in enumerate(_QUESTIONS, start=1) for a in range(1, n + 1)]

#: Class names of each label scheme.
SCHEMES = {
    "spiral-elliptical": ("elliptical", "spiral"),
    "gz4": ("edge-on", "face-on spiral", "elliptical", "merger"),
    "votes": ("smooth", "features/disk", "star/artifact"),
}
_DEFAULT_MIN = {"spiral-elliptical": 0.0, "gz4": 0.95, "votes": 0.0}


def _labels(table, scheme: str, min_fraction: float):
    """(labels, keep mask, reason) for ``scheme``."""
    if scheme == "spiral-elliptical":
        fr = table[["Class1.1", "Class1.2"]].to_numpy(dtype=float)
        labels = (fr[:, 1] > fr[:, 0]).astype(np.int64)
        keep = (fr[:, 0] != fr[:, 1]) & (fr.max(axis=1) >= min_fraction)
        reason = f"smooth/disk tie or winning fraction below min_fraction={min_fraction}"
    elif scheme == "gz4":
        fr = table[["Class2.1", "Class4.1", "Class1.1", "Class8.6"]].to_numpy(dtype=float)
        total = fr.sum(axis=1)
        fr = fr / np.where(total > 0, total, 1.0)[:, None]
        labels = fr.argmax(axis=1).astype(np.int64)
        keep = (total > 0) & (fr.max(axis=1) >= min_fraction)
        reason = f"renormalised winning fraction below min_fraction={min_fraction}"
    else:
        fr = table[["Class1.1", "Class1.2", "Class1.3"]].to_numpy(dtype=float)
        labels = fr.argmax(axis=1).astype(np.int64)
        keep = fr.max(axis=1) >= min_fraction
        reason = f"top-level fraction below min_fraction={min_fraction}"
    return labels, keep, reason


def sniff(path) -> bool:
    """A folder holding the Kaggle solutions CSV."""
    return Path(path).is_dir() and (Path(path) / SOLUTIONS).is_file()


def load(
    path,
    *,
    scheme: str = "spiral-elliptical",
    min_fraction: float | None = None,
    solutions: str = SOLUTIONS,
    images_dir: str | None = None,
    missing: str = "skip",
    preprocess: Preprocess,
    progress: bool = True,
    name: str | None = None,
):
    """Load Galaxy Zoo (Kaggle) JPEGs with labels derived from the vote fractions.

    Parameters
    ----------
    path : str or Path
        Folder holding ``training_solutions_rev1.csv``.
    scheme : {"spiral-elliptical", "gz4", "votes"}
    min_fraction : float, optional
        Purity cut on the winning fraction (default 0 for spiral-elliptical and
        votes, 0.95 for gz4).
    solutions : str
        Name or path of the solutions CSV.
    images_dir : str, optional
        Folder of the JPEGs (default: ``images_training_rev1/`` if present, else ``path``).
    missing : {"skip", "raise"}
        Catalogue rows without a JPEG are removed and counted (default) or an error.
    """
    root = Path(path)
    if not root.is_dir():
        msg = f"{root}: no such folder; check the path"
        raise MissingPathError(msg)
    if scheme not in SCHEMES:
        msg = f"unknown galaxy-zoo scheme {scheme!r}; valid schemes: {', '.join(SCHEMES)}"
        raise UnknownNameError(msg)
    min_fraction = _DEFAULT_MIN[scheme] if min_fraction is None else float(min_fraction)
    if not 0.0 <= min_fraction <= 1.0:
        msg = f"min_fraction must lie in [0, 1], got {min_fraction}"
        raise ConfigError(msg)
    table = read_catalog(solutions, columns=["GalaxyID", *VOTE_COLUMNS], base=root)
    if images_dir is None:
        images_dir = next((d for d in IMAGE_FOLDERS if (root / d).is_dir()), ".")
    labels, keep, reason = _labels(table, scheme, min_fraction)
    removed = [removal(int((~keep).sum()), reason)] if (~keep).any() else []
    table, labels = table[keep].reset_index(drop=True), labels[keep]
    paths, has_file, more = resolve_files(root / images_dir, table["GalaxyID"], "{id}.jpg", missing)
    table, labels = table[has_file].reset_index(drop=True), labels[has_file]
    images, channels, scale = file_images(paths, preprocess=preprocess, progress=progress)
    return build(
        images,
        labels,
        SCHEMES[scheme],
        ids=table["GalaxyID"],
        meta=table.drop(columns=["GalaxyID"]),
        preprocess=preprocess,
        channels=channels,
        name=name or f"galaxy-zoo-{scheme}",
        where=str(root),
        progress=progress,
        removed=removed + more,
        extra={"scale": scale, "scheme": scheme, "min_fraction": min_fraction},
    )
