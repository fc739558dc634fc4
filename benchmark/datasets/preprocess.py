"""Preprocessing shared by every loader: non-finite pixels, channels, crop, resize, normalise.

The options arrive as loader parameters (``-p crop=64`` on the command line,
``crop=64`` in Python or in an experiment's ``[dataset]`` table) and are
recorded in the dataset's provenance.  They are applied in this order: fill
non-finite pixels (``nan_policy="fill"``), select channels, centre-crop,
resize, normalise each image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConfigError, UnknownNameError

__all__ = ["NAN_POLICIES", "NORMALIZATIONS", "Preprocess"]

NORMALIZATIONS = ("none", "minmax", "standardize", "asinh", "l2")
NAN_POLICIES = ("raise", "fill", "drop")
_KEYS = ("crop", "resize", "channels", "normalize", "nan_policy", "fill_value")


def _size(value, key: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int | np.integer):
        value = (int(value), int(value))
    try:
        h, w = (int(v) for v in value)
    except (TypeError, ValueError):
        msg = f"{key} must be an integer or two integers (height, width), got {value!r}"
        raise ConfigError(msg) from None
    if h <= 0 or w <= 0:
        msg = f"{key} must be positive, got {value!r}"
        raise ConfigError(msg)
    return (h, w)


def _crop(value) -> tuple | None:
    """``crop`` as (height, width): pixels (integers) or fractions of the side (floats)."""
    if value is None:
        return None
    items = [value, value] if isinstance(value, int | float | np.number) else value
    try:
        items = list(items)
    except TypeError:
        items = []
    if len(items) != 2 or any(isinstance(v, bool) for v in items):
        msg = (
            "crop must be pixels (an integer, or two: height, width) or a fraction of the "
            f"image side (a number in (0, 1], or two), got {value!r}"
        )
        raise ConfigError(msg)
    out = []
    for v in items:
        if not isinstance(v, int | float | np.number) or v <= 0:
            msg = f"crop must be positive pixels or a fraction in (0, 1], got {value!r}"
            raise ConfigError(msg)
        fraction = isinstance(v, float | np.floating) and (v == 1 or not float(v).is_integer())
        if fraction and v > 1:
            msg = f"crop fraction must be in (0, 1], got {value!r}"
            raise ConfigError(msg)
        out.append(float(v) if fraction else int(v))  # 1.0 is the whole side, 1 one pixel
    return tuple(out)


@dataclass(frozen=True)
class Preprocess:
    """Per-image preprocessing applied by every loader.

    Parameters
    ----------
    crop : int, float or pair of them, optional
        Centre crop to (height, width): integers are pixels; numbers in (0, 1] are
        fractions of the image's side (``0.566`` keeps the central 240 of 424 pixels, and
        the same framing of a 256-pixel image: 145), rounded to whole pixels.
    resize : (int, int), optional
        Resample to (height, width) pixels (antialiased bilinear).
    channels : sequence of int or str, optional
        Channels to keep, by index or by the dataset's channel names.
    normalize : {"none", "minmax", "standardize", "asinh", "l2"}
        Per-image normalisation: ``minmax`` maps to [0, 1]; ``standardize`` to
        zero mean and unit variance; ``asinh`` applies
        ``asinh((x - median) / (3 sigma_MAD))`` (these three over all kept
        channels together); ``l2`` divides each channel of each image by its
        L2 norm, as braai does with ZTF's science, reference and difference
        cutouts (Duev et al. 2019), so that their very different count levels
        meet on one scale.
    nan_policy : {"raise", "fill", "drop"}
        What to do with images holding NaN or infinite pixels.
    fill_value : float
        Replacement for non-finite pixels with ``nan_policy="fill"``.
    """

    crop: tuple | None = None
    resize: tuple[int, int] | None = None
    channels: tuple[int | str, ...] | None = None
    normalize: str = "none"
    nan_policy: str = "raise"
    fill_value: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "crop", _crop(self.crop))
        object.__setattr__(self, "resize", _size(self.resize, "resize"))
        if self.channels is not None:
            chans = self.channels
            if isinstance(chans, str | int):
                chans = [chans]
            object.__setattr__(self, "channels", tuple(chans))
        if self.normalize not in NORMALIZATIONS:
            msg = f"unknown normalize {self.normalize!r}; valid: {', '.join(NORMALIZATIONS)}"
            raise UnknownNameError(msg)
        if self.nan_policy not in NAN_POLICIES:
            msg = f"unknown nan_policy {self.nan_policy!r}; valid: {', '.join(NAN_POLICIES)}"
            raise UnknownNameError(msg)
        object.__setattr__(self, "fill_value", float(self.fill_value))

    @classmethod
    def pop_from(cls, params: dict, **defaults) -> Preprocess:
        """Take the preprocessing keys out of ``params`` (in place) and build one."""
        values = dict(defaults)
        for key in _KEYS:
            if key in params:
                values[key] = params.pop(key)
        return cls(**values)

    @property
    def is_identity(self) -> bool:
        """True when applying it changes nothing (non-finite pixels aside)."""
        return (
            self.crop is None
            and self.resize is None
            and self.channels is None
            and self.normalize == "none"
        )

    @property
    def fixes_size(self) -> bool:
        """True when every image comes out one size whatever its own (a ``resize``, or a
        crop in pixels), so files of different sizes can make one data set."""
        return self.resize is not None or (
            self.crop is not None and all(isinstance(c, int) for c in self.crop)
        )

    def as_dict(self) -> dict:
        """Plain dictionary for provenance records."""
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    def channel_indices(self, channel_names: Sequence[str], n_channels: int) -> list[int]:
        """Indices of the channels to keep."""
        if self.channels is None:
            return list(range(n_channels))
        out = []
        for c in self.channels:
            if isinstance(c, int | np.integer) and not isinstance(c, bool):
                if not 0 <= c < n_channels:
                    msg = f"channel index {c} is out of range; images have {n_channels} channels"
                    raise ConfigError(msg)
                out.append(int(c))
            elif str(c) in channel_names:
                out.append(list(channel_names).index(str(c)))
            else:
                msg = (
                    f"unknown channel {c!r}; channels are {', '.join(channel_names)} "
                    f"(or indices 0..{n_channels - 1})"
                )
                raise UnknownNameError(msg)
        return out

    def output_channels(self, channel_names: Sequence[str], n_channels: int) -> tuple[str, ...]:
        """Names of the channels after selection."""
        names = list(channel_names) or [str(i) for i in range(n_channels)]
        return tuple(names[i] for i in self.channel_indices(names, n_channels))

    def output_shape(self, shape: tuple[int, int, int], channel_names=()) -> tuple[int, int, int]:
        """Image shape (H, W, C) after preprocessing an image of ``shape``."""
        h, w, c = shape
        c = len(self.channel_indices(channel_names, c))
        if self.crop is not None:
            h, w = self._check_crop(h, w)
        if self.resize is not None:
            h, w = self.resize
        return (h, w, c)

    def _check_crop(self, h, w):
        """The crop in pixels for ``h`` x ``w`` images."""
        ch, cw = (
            max(1, round(c * n)) if isinstance(c, float) else c
            for c, n in zip(self.crop, (h, w), strict=True)
        )
        if ch > h or cw > w:
            msg = (
                f"crop {ch}x{cw} is larger than the images ({h}x{w}); choose a smaller crop "
                f"(-p crop=N pixels, a fraction of the side such as -p crop=0.5, or "
                f"-p crop=none)"
            )
            raise ConfigError(msg)
        return ch, cw

    def __call__(self, batch: np.ndarray, channel_names: Sequence[str] = ()) -> np.ndarray:
        """Apply to a batch of images, shape (N, H, W, C); returns float32."""
        x = np.asarray(batch, dtype=np.float32)
        if self.nan_policy == "fill":
            bad = ~np.isfinite(x)
            if bad.any():
                x = x.copy()
                x[bad] = self.fill_value
        if self.channels is not None:
            x = x[..., self.channel_indices(channel_names, x.shape[-1])]
        if self.crop is not None:
            h, w = x.shape[1:3]
            ch, cw = self._check_crop(h, w)
            top, left = (h - ch) // 2, (w - cw) // 2
            x = x[:, top : top + ch, left : left + cw, :]
        if self.resize is not None and tuple(x.shape[1:3]) != self.resize:
            x = _resize(x, self.resize)
        if self.normalize != "none":
            x = _normalize(x, self.normalize)
        return np.ascontiguousarray(x, dtype=np.float32)


def _resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    h, w = size
    out = np.empty((x.shape[0], h, w, x.shape[3]), dtype=np.float32)
    for i in range(x.shape[0]):
        for c in range(x.shape[3]):
            img = Image.fromarray(np.ascontiguousarray(x[i, :, :, c]))
            out[i, :, :, c] = np.asarray(img.resize((w, h), Image.Resampling.BILINEAR))
    return out


def _normalize(x: np.ndarray, how: str) -> np.ndarray:
    axes = (1, 2, 3)
    if how == "minmax":
        lo = x.min(axis=axes, keepdims=True)
        span = x.max(axis=axes, keepdims=True) - lo
        return (x - lo) / np.where(span > 0, span, 1.0)
    if how == "l2":
        norm = np.sqrt(np.square(x, dtype=np.float64).sum(axis=(1, 2), keepdims=True))
        return (x / np.where(norm > 0, norm, 1.0)).astype(np.float32)
    if how == "standardize":
        mean = x.mean(axis=axes, keepdims=True)
        std = x.std(axis=axes, keepdims=True)
        return (x - mean) / np.where(std > 0, std, 1.0)
    # asinh stretch around the median, softened at three robust sigmas
    med = np.median(x, axis=axes, keepdims=True)
    mad = np.median(np.abs(x - med), axis=axes, keepdims=True) * 1.4826
    soft = np.where(mad > 0, 3.0 * mad, 1.0)
    return np.arcsinh((x - med) / soft)
