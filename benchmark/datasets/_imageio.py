"""Decode one image file (JPEG, PNG, TIFF, FITS) into an (H, W, C) array, with clear errors.

Raster modes are mapped once, here, for the header check and the decoding alike:
alpha is dropped (``LA`` -> 1 channel, ``RGBA`` -> 3), palettes and other colour
spaces become RGB, bilevel becomes 8-bit grey; 16-bit grey is kept as 16 bits.
8- and 16-bit pixels are scaled to [0, 1] by their bit depth; FITS and single-band
32-bit TIFF (float or integer, as written by many reduction pipelines) keep their units.
A multi-page TIFF is refused rather than read in part.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, MissingPathError

RASTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fits.fz", ".fz")
IMAGE_SUFFIXES = RASTER_SUFFIXES + FITS_SUFFIXES

#: Pillow mode -> (channels, bit depth, mode to convert to before reading, description)
_MODES = {
    "1": (1, "8-bit", "L", "bilevel"),
    "L": (1, "8-bit", None, "grayscale"),
    "LA": (1, "8-bit", "L", "grayscale + alpha"),
    "P": (3, "8-bit", "RGB", "palette"),
    "PA": (3, "8-bit", "RGB", "palette + alpha"),
    "RGB": (3, "8-bit", None, "colour (RGB)"),
    "RGBA": (3, "8-bit", "RGB", "colour + alpha (RGBA)"),
    "CMYK": (3, "8-bit", "RGB", "colour (CMYK)"),
    "YCbCr": (3, "8-bit", "RGB", "colour (YCbCr)"),
    "I;16": (1, "16-bit", None, "16-bit grayscale"),
    "I;16L": (1, "16-bit", None, "16-bit grayscale"),
    "I;16B": (1, "16-bit", None, "16-bit grayscale"),
    "I": (1, "float", None, "32-bit integer grayscale"),
    "F": (1, "float", None, "32-bit float grayscale"),
}
_SCALE = {"8-bit": 1.0 / 255.0, "16-bit": 1.0 / 65535.0}


@dataclass(frozen=True)
class ImageInfo:
    """What a file's header says: shape (H, W, C), bit depth and a description of its mode."""

    shape: tuple[int, int, int]
    depth: str  # "8-bit", "16-bit" or "float" (FITS)
    mode: str


def is_image_file(path) -> bool:
    name = Path(path).name.lower()
    return not name.startswith(".") and name.endswith(IMAGE_SUFFIXES)


def is_fits(path) -> bool:
    return Path(path).name.lower().endswith(FITS_SUFFIXES)


def _corrupt(path, exc) -> CorruptFileError:
    msg = f"{path}: unreadable or corrupt image ({exc.__class__.__name__}); replace or remove it"
    return CorruptFileError(msg)


def _mode(path, mode: str):
    if mode not in _MODES:
        msg = (
            f"{path}: unsupported image mode {mode!r}; convert it to 8-bit RGB or grayscale "
            f"(e.g. Pillow's Image.convert('RGB'))"
        )
        raise CorruptFileError(msg)
    return _MODES[mode]


def image_info(path) -> ImageInfo:
    """Shape, bit depth and mode of an image file from its header (FITS: its pixels)."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such image file"
        raise MissingPathError(msg)
    if is_fits(path):
        return ImageInfo(_read_fits(path).shape, "float", "FITS")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
            mode = im.mode
            pages = getattr(im, "n_frames", 1)
    except (UnidentifiedImageError, OSError) as exc:
        raise _corrupt(path, exc) from None
    channels, depth, _, text = _mode(path, mode)
    _one_page(path, pages)
    return ImageInfo((h, w, channels), depth, text)


def image_shape(path) -> tuple[int, int, int]:
    """(H, W, C) of an image file from its header, without decoding the pixels."""
    return image_info(path).shape


def read_image(path) -> np.ndarray:
    """Pixels of one file, shape (H, W, C): uint8 / uint16 for rasters, float32 for FITS.

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
    """Like :func:`read_image`, with integer pixels scaled to [0, 1] by their bit depth."""
    arr = read_image(path)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) * np.float32(_SCALE["8-bit"])
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) * np.float32(_SCALE["16-bit"])
    return arr


def _read_raster(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            _, depth, convert, _ = _mode(path, im.mode)
            _one_page(path, getattr(im, "n_frames", 1))
            if convert:
                im = im.convert(convert)
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise _corrupt(path, exc) from None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    dtype = {"8-bit": np.uint8, "16-bit": np.uint16, "float": np.float32}[depth]
    return arr.astype(dtype, copy=False)


def _one_page(path, pages: int) -> None:
    """Refuse a multi-page (TIFF) file: which page is the stamp is not ours to guess."""
    if pages > 1:
        msg = (
            f"{path}: a multi-page image ({pages} pages); save each stamp as its own file "
            f"(or stack the bands in one FITS file)"
        )
        raise CorruptFileError(msg)


@contextlib.contextmanager
def open_fits(path):
    """``astropy.io.fits.open`` of ``path``, quiet, and closed whatever astropy does.

    astropy's own warnings (non-standard cards; on some versions deprecations raised
    while it describes a truncated file) are not the user's concern; the file is opened
    here so that it is closed even when astropy gives up half-way.
    """
    from astropy.io import fits
    from astropy.utils.exceptions import AstropyWarning

    with warnings.catch_warnings(), open(path, "rb") as handle:
        warnings.simplefilter("ignore", AstropyWarning)
        with fits.open(handle, memmap=False) as hdul:
            yield hdul


def _read_fits(path: Path) -> np.ndarray:
    """A 2-D image, a (C, H, W) cube, or several 2-D image extensions stacked as channels."""
    try:
        with open_fits(path) as hdul:
            planes = [h.data for h in hdul if getattr(h, "data", None) is not None]
            planes = [np.asarray(p, dtype=np.float32) for p in planes if p.ndim in (2, 3)]
    except (OSError, ValueError, TypeError, EOFError, IndexError, KeyError) as exc:
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
