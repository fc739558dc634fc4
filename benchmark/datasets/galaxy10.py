"""Loader ``galaxy10``: astroNN's Galaxy10 HDF5 files (SDSS and DECaLS).

* Galaxy10 SDSS: ``images`` uint8 (21785, 69, 69, 3) and ``ans`` 0-9.
* Galaxy10 DECaLS: ``images`` uint8 (17736, 256, 256, 3), ``ans``, plus
  ``ra``, ``dec``, ``redshift`` and ``pxscale`` (kept in ``meta``).

Images stay in the file and are read lazily, scaled to [0, 1].  The variant is
told by the image size unless ``variant`` is given.  Cite Leung & Bovy (2019)
and Walmsley et al. (2022, DECaLS).
"""

from __future__ import annotations

import numpy as np

from ..errors import UnknownNameError
from ._build import build
from ._hdf5 import has_keys, read_columns, require_keys
from .arrays import HDF5Images
from .preprocess import Preprocess
from .taxonomy import GALAXY10_DECALS, GALAXY10_SDSS

__all__ = ["VARIANTS", "load", "sniff"]

VARIANTS = {"sdss": GALAXY10_SDSS, "decals": GALAXY10_DECALS}


def sniff(path) -> bool:
    """An HDF5 file with ``images`` and ``ans`` (astroNN's layout)."""
    return has_keys(path, ("images", "ans"))


def load(
    path,
    *,
    variant: str | None = None,
    preprocess: Preprocess,
    progress: bool = True,
    name: str | None = None,
):
    """Load a Galaxy10 HDF5 file.

    Parameters
    ----------
    path : str or Path
        ``Galaxy10.h5`` or ``Galaxy10_DECals.h5``.
    variant : {"sdss", "decals"}, optional
        Default: ``decals`` for 256-pixel images, ``sdss`` otherwise.
    """
    require_keys(path, ["images", "ans"], "Galaxy10")
    labels, meta, dtype = read_columns(path, "ans")
    images = HDF5Images(
        str(path),
        "images",
        scale=1.0 / 255.0 if dtype == np.uint8 else None,
        preprocess=preprocess,
        channel_names=("R", "G", "B"),
    )
    images.integer_source = dtype.kind in "ui"
    if variant is None:
        variant = "decals" if images._raw_shape[0] == 256 else "sdss"
    if variant not in VARIANTS:
        msg = f"unknown Galaxy10 variant {variant!r}; valid: {', '.join(VARIANTS)}"
        raise UnknownNameError(msg)
    return build(
        images,
        labels,
        VARIANTS[variant],
        ids=np.arange(len(labels)).astype(str),
        meta=meta,
        preprocess=preprocess,
        channels=("R", "G", "B"),
        name=name or f"galaxy10-{variant}",
        where=str(path),
        progress=progress,
        extra={"variant": variant},
    )
