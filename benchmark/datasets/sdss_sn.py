"""Loader ``sdss-sn``: the SDSS-II SN hand-scanning stamps as used in seed 001.

An HDF5 file with ``images`` (N, 69, 69, 3) difference images in g, r, i and
``classes`` 0-9 in the order of seed 001's class table (0 Artefact, 1 Dipole,
2 Saturated Star, 3 Moving, 4 Variable, 5 Transient, 6 SN Other, 7 SN Bronze,
8 SN Silver, 9 SN Gold).  The taxonomy maps these ``original`` classes to
``visual`` (Artefact, Dipole/Saturated, Real) and ``binary`` (0-2 Not-Real,
3-9 Real).  An optional ``ids`` dataset names the stamps; any other 1-D
dataset of length N goes to ``meta``.  Cite du Buisson et al. (2015).
"""

from __future__ import annotations

import h5py
import numpy as np

from ._build import build
from ._hdf5 import has_keys, read_columns, require_keys
from .arrays import HDF5Images
from .preprocess import Preprocess
from .taxonomy import SDSS_SN

#: The label schemes ``load`` takes (``datasets.load``'s ``prefer_scheme`` reads them).
SCHEMES = tuple(SDSS_SN.schemes)

__all__ = ["load", "sniff"]


def sniff(path) -> bool:
    """An HDF5 file with ``images`` and ``classes``."""
    return has_keys(path, ("images", "classes"))


def load(
    path,
    *,
    scheme: str = "original",
    preprocess: Preprocess,
    progress: bool = True,
    name: str | None = None,
):
    """Load SDSS-II SN stamps; ``scheme`` picks original, visual or binary labels."""
    require_keys(path, ["images", "classes"], "SDSS-II SN (sdss-sn)")
    labels, meta, dtype = read_columns(path, "classes", skip=("images", "ids"))
    ids = np.arange(len(labels)).astype(str)
    with h5py.File(path, "r") as f:
        if "ids" in f:
            ids = [v.decode() if isinstance(v, bytes) else str(v) for v in f["ids"][()]]
    with h5py.File(path, "r") as f:
        n_channels = f["images"].shape[-1]
    channels = ("g", "r", "i") if n_channels == 3 else tuple(map(str, range(n_channels)))
    images = HDF5Images(
        str(path),
        "images",
        scale=1.0 / 255.0 if dtype == np.uint8 else None,
        preprocess=preprocess,
        channel_names=channels,
    )
    images.integer_source = dtype.kind in "ui"
    ds = build(
        images,
        labels,
        SDSS_SN,
        ids=ids,
        meta=meta,
        preprocess=preprocess,
        channels=channels,
        name=name or "sdss-sn",
        where=str(path),
        progress=progress,
    )
    return ds.relabel(scheme)
