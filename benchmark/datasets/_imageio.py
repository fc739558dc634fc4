"""Decode one image file (JPEG, PNG, FITS) into an (H, W, C) array, with clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, MissingPathError

RASTER_SUFFIXES = (".jpg", ".jpeg", ".png")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
IMAGE_SUFFIXES = RASTER_SUFFIXES + FITS_SUFFIXES


def is_image_file(path) -> bool:
    name = Path(path).name.lower()
    return not name.startswith(".") and name.endswith(IMAGE_SUFFIXES)


def is_fits(path) -> bool:
    return Path(path).name.lower().endswith(FITS_SUFFIXES)


def read_image(path) -> np.ndarray:
    """Pixels of one file, shape (H, W, C): uint8 for 8-bit rasters, float32 otherwise.

    Raises
    ------
    MissingPathError, CorruptFileError
        Naming the file.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such image file"
        raise MissingPathError(msg)
    return _read_fits(path) if is_fits(path) else _read_raster(path)


def read_scaled(path) -> np.ndarray:
    """Like :func:`read_image`, with 8-bit pixels scaled to [0, 1] (float32)."""
    arr = read_image(path)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) * np.float32(1.0 / 255.0)
    return arr


def image_shape(path) -> tuple[int, int, int]:
    """(H, W, C) of an image file from its header, without decoding the pixels."""
    path = Path(path)
    if is_fits(path):
        return _read_fits(path).shape
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
            bands = 3 if im.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr") else len(im.getbands())
    except (UnidentifiedImageError, OSError) as exc:
        msg = (
            f"{path}: unreadable or corrupt image ({exc.__class__.__name__}); replace or remove it"
        )
        raise CorruptFileError(msg) from None
    return (h, w, bands)


def _read_raster(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.mode in ("P", "RGBA", "CMYK", "YCbCr", "LA"):
                im = im.convert("RGB")
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        msg = f"{path}: unreadable or corrupt image ({exc}); replace or remove it"
        raise CorruptFileError(msg) from None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float32)
    return arr


def _read_fits(path: Path) -> np.ndarray:
    """A 2-D image, a (C, H, W) cube, or several 2-D image extensions stacked as channels."""
    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fits.verify.VerifyWarning)
            with fits.open(path, memmap=False) as hdul:
                planes = [h.data for h in hdul if getattr(h, "data", None) is not None]
                planes = [np.asarray(p, dtype=np.float32) for p in planes if p.ndim in (2, 3)]
    except (OSError, ValueError, TypeError) as exc:
        msg = f"{path}: unreadable or corrupt FITS file ({exc}); replace or remove it"
        raise CorruptFileError(msg) from None
    if not planes:
        msg = f"{path}: FITS file holds no 2-D image or 3-D cube"
        raise CorruptFileError(msg)
    if len(planes) == 1 and planes[0].ndim == 3:
        return np.moveaxis(planes[0], 0, -1)
    shapes = {p.shape for p in planes}
    if len(shapes) != 1 or planes[0].ndim != 2:
        msg = f"{path}: image extensions have different shapes {sorted(shapes)}"
        raise CorruptFileError(msg)
    return np.stack(planes, axis=-1)
