"""Training-time augmentation on NumPy batches (the data pipeline's side, backend-free).

All transforms act on float32 batches ``(N, H, W, C)`` and draw from the
``numpy.random.Generator`` they are given, so a seeded run is repeatable whatever
the number of loader threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmark.errors import ConfigError

__all__ = ["AUGMENTATIONS", "Augment", "d4_numpy"]

#: Names accepted in a model's ``augment`` list.
AUGMENTATIONS = ("d4", "flip", "translate", "resized-crop", "noise")


@dataclass(frozen=True)
class Augment:
    """A chain of random transforms.

    Parameters
    ----------
    d4 : bool
        Random element of the dihedral group D4 (rotations by 90 degrees, flips,
        transposes; only the flips and the 180-degree rotation on non-square images).
    flip : bool
        Random left-right flip (the seed-004 transfer-learning recipe).
    translate : int
        Largest random shift in pixels (edges reflected); with a central crop in the
        model this is a random crop.
    resized_crop : tuple of float or None
        ``(smallest, largest)`` side of a random square crop as a fraction of the image,
        resampled back to full size (nearest neighbour).
    noise : numpy.ndarray or None
        Per-channel standard deviation of additive Gaussian noise, in pixel units.
    """

    d4: bool = False
    flip: bool = False
    translate: int = 0
    resized_crop: tuple[float, float] | None = None
    noise: np.ndarray | None = None

    @classmethod
    def from_names(
        cls,
        names,
        *,
        translate: int = 4,
        crop_scale=(0.8, 1.0),
        noise: float = 0.2,
        channel_std=None,
    ) -> Augment:
        """Build from a list of names (:data:`AUGMENTATIONS`) and their settings."""
        names = [names] if isinstance(names, str) else list(names or [])
        unknown = [n for n in names if n not in AUGMENTATIONS]
        if unknown:
            msg = f"unknown augmentation {unknown[0]!r}; valid: {', '.join(AUGMENTATIONS)}"
            raise ConfigError(msg)
        scale = tuple(float(s) for s in crop_scale)
        if len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1:
            msg = f"crop_scale must be (smallest, largest) in (0, 1], got {crop_scale!r}"
            raise ConfigError(msg)
        sigma = None
        if "noise" in names:
            std = np.ones(1) if channel_std is None else np.asarray(channel_std, np.float32)
            sigma = (float(noise) * std).astype(np.float32)
        return cls(
            d4="d4" in names,
            flip="flip" in names,
            translate=int(translate) if "translate" in names else 0,
            resized_crop=scale if "resized-crop" in names else None,
            noise=sigma,
        )

    @property
    def active(self) -> bool:
        return bool(
            self.d4 or self.flip or self.translate or self.resized_crop or self.noise is not None
        )

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if self.resized_crop is not None:
            x = _resized_crop(x, rng, self.resized_crop)
        if self.translate:
            x = _translate(x, rng, self.translate)
        if self.d4:
            x = _dihedral(x, rng)
        elif self.flip:
            flip = rng.random(len(x)) < 0.5
            x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
        if self.noise is not None:
            x = x + rng.standard_normal(x.shape, dtype=np.float32) * self.noise
        return np.ascontiguousarray(x, dtype=np.float32)


def _gather(x, rows, cols):
    """``out[b, i, j] = x[b, rows[b, i], cols[b, j]]`` for every sample at once."""
    b = np.arange(len(x))[:, None, None]
    return x[b, rows[:, :, None], cols[:, None, :]]


def _translate(x, rng, shift: int):
    n, h, w, _ = x.shape
    s = min(int(shift), h - 1, w - 1)
    padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)), mode="reflect")
    oy = rng.integers(0, 2 * s + 1, n)
    ox = rng.integers(0, 2 * s + 1, n)
    return _gather(padded, oy[:, None] + np.arange(h), ox[:, None] + np.arange(w))


def _resized_crop(x, rng, scale):
    n, h, w, _ = x.shape
    frac = rng.uniform(scale[0], scale[1], n)
    ch = np.maximum(1, np.round(frac * h)).astype(int)
    cw = np.maximum(1, np.round(frac * w)).astype(int)
    oy = (rng.random(n) * (h - ch + 1)).astype(int)
    ox = (rng.random(n) * (w - cw + 1)).astype(int)
    rows = oy[:, None] + (np.arange(h)[None, :] * ch[:, None]) // h
    cols = ox[:, None] + (np.arange(w)[None, :] * cw[:, None]) // w
    return _gather(x, rows, cols)


def d4_numpy(x: np.ndarray, k: int) -> np.ndarray:
    """Element ``k`` (0..7) of D4 on a batch, as :class:`deep.layers.D4Transform` does it:
    a left-right flip when ``k >= 4``, then ``k % 4`` counter-clockwise quarter turns."""
    if k >= 4:
        x = x[:, :, ::-1]
    return np.rot90(x, k % 4, axes=(1, 2))


def _dihedral(x, rng):
    square = x.shape[1] == x.shape[2]
    choices = np.arange(8) if square else np.array([0, 2, 4, 6])
    ks = rng.choice(choices, len(x))
    out = np.empty_like(x)
    for k in np.unique(ks):
        sel = ks == k
        out[sel] = d4_numpy(x[sel], int(k))
    return out
